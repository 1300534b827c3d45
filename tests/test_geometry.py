"""Leg geometry: sea and ferry legs stay on water, rail legs on land, Suez and the Cape differ."""

from __future__ import annotations

import itertools

import pytest

import corridors
from corridors.geo import geodesic_km
from maps.basemap import country_at

#: Ports and piers sit on the coast: points this close to a leg's end nodes may fall on land.
END_TOLERANCE_KM = 15.0
STEP_KM = 10.0
NETWORK = corridors.load_network()  # for the parameters: loaded once, not once per list


def sample(path: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    points = [path[0]]
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(path):
        n = max(1, int(geodesic_km((lat1, lon1), (lat2, lon2)) // STEP_KM))
        points += [(lat1 + (lat2 - lat1) * i / n, lon1 + (lon2 - lon1) * i / n) for i in range(1, n + 1)]
    return points


def far_from_ends(network: corridors.Network, leg: corridors.Leg, tolerance_km: float) -> list[tuple[float, float]]:
    ends = [network.nodes[leg.from_id].latlon, network.nodes[leg.to_id].latlon]
    return [p for p in sample(leg.path) if min(geodesic_km(p, e) for e in ends) > tolerance_km]


def water_legs(network: corridors.Network) -> list[str]:
    return [leg.id for leg in network.legs.values() if leg.mode in ("sea", "ferry")]


def test_there_are_sea_and_ferry_legs_to_check(network: corridors.Network) -> None:
    assert {"X02a", "X02b", "X02c", "X03a", "X03b", "X04", "M02", "M07a", "S16"} <= set(water_legs(network))


@pytest.mark.parametrize("leg_id", water_legs(NETWORK))
def test_sea_and_ferry_legs_stay_on_water(network: corridors.Network, leg_id: str) -> None:
    leg = network.legs[leg_id]
    assert len(leg.path) > 2 or geodesic_km(leg.path[0], leg.path[-1]) < 2 * END_TOLERANCE_KM
    on_land = [(p, country_at(*p)) for p in far_from_ends(network, leg, END_TOLERANCE_KM)]
    on_land = [(p, c) for p, c in on_land if c is not None]
    assert not on_land, f"{leg_id} crosses land at {on_land[:3]}"


def test_lake_van_ferry_crosses_the_lake(network: corridors.Network) -> None:
    leg = network.legs["S16"]
    crossing = far_from_ends(network, leg, 3.0)
    assert len(crossing) >= 5 and {country_at(*p) for p in crossing} == {None}
    assert {country_at(*network.nodes[n].latlon) for n in (leg.from_id, leg.to_id)} == {"Turkey"}


def test_the_suez_lane_sails_through_the_canal(network: corridors.Network) -> None:
    lane = [p for leg in ("X02b", "X02c") for p in sample(network.legs[leg].path)]
    canal = [(lat, lon) for lat, lon in lane if 29.95 <= lat <= 31.25 and 32.2 <= lon <= 32.6]
    assert len(canal) >= 12  # Suez to Port Said, every 10 km
    assert {country_at(*p) for p in canal} == {None}
    # Egypt on both banks, a few kilometres off the canal, between Ismailia and Port Said
    banks = [(lat, lon + d) for lat, lon in canal if 30.5 <= lat <= 31.15 for d in (-0.08, 0.08)]
    assert len(banks) >= 8 and {country_at(*p) for p in banks} == {"Egypt"}


@pytest.mark.parametrize("leg_id", [leg.id for leg in NETWORK.legs.values() if leg.mode == "rail"])
def test_rail_legs_stay_on_land(network: corridors.Network, leg_id: str) -> None:
    leg = network.legs[leg_id]
    at_sea = [p for p in far_from_ends(network, leg, 40.0) if country_at(*p) is None]
    assert not at_sea, f"{leg_id} runs through the sea at {at_sea[:3]}"


def test_suez_and_cape_routes_differ(network: corridors.Network) -> None:
    suez = [p for leg in ("X02a", "X02b", "X02c") for p in network.legs[leg].path]
    cape = [p for leg in ("X03a", "X03b") for p in network.legs[leg].path]
    assert min(lat for lat, _ in cape) < -34  # rounds the Cape
    assert min(lat for lat, _ in suez) > -12  # never south of the Equator's neighbourhood
    assert any(27 < lat < 31 and 32 < lon < 34 for lat, lon in suez)  # through the Gulf of Suez
    assert all(not (27 < lat < 31 and 32 < lon < 34) for lat, lon in cape)


def test_caspian_ferry_crosses_water(network: corridors.Network) -> None:
    mid = sample(network.legs["M02"].path)[len(sample(network.legs["M02"].path)) // 2]
    assert country_at(*mid) is None


@pytest.mark.parametrize(
    "leg_id",
    [leg.id for leg in NETWORK.legs.values() if not leg.distance_computed and len(leg.path) > 2],
)
def test_given_distances_agree_with_the_geometry(network: corridors.Network, leg_id: str) -> None:
    leg = network.legs[leg_id]
    ratio = leg.distance_km / sum(geodesic_km(a, b) for a, b in zip(leg.path, leg.path[1:], strict=False))
    assert 0.8 <= ratio <= 1.5, f"{leg_id}: given {leg.distance_km} km is {ratio:.2f} x its geometry"
