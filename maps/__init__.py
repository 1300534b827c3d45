"""maps: folium maps and HTML reports built from the network and from simulation results."""

import sys

# folium imports pandas whenever it is installed, only to accept DataFrames, which maps never
# passes: about 0.8 s of every command that draws a page. pandas is installed beside us (SALib
# needs it), so folium is first imported here with pandas hidden; pandas itself still imports
# normally afterwards (for SALib), and nothing changes when pandas was loaded already.
if "pandas" not in sys.modules and "folium" not in sys.modules:
    sys.modules["pandas"] = None  # type: ignore[assignment]
    try:
        import folium  # noqa: F401
    finally:
        del sys.modules["pandas"]
