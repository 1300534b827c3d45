"""maps: folium maps and HTML reports built from the network and from simulation results (to come)."""
