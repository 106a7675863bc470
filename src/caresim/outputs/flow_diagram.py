"""The flow diagram of a run: patients a year between services, arrow width proportional to volume.

Services stand in columns from crisis to discharge; long arrows run in lanes between the boxes."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path as MatplotlibPath

from caresim.outputs.chart_style import (
    BLUE,
    BLUISH_GREEN,
    GREY,
    ORANGE,
    REDDISH_PURPLE,
    SKY_BLUE,
    VERMILLION,
    format_number,
    label,
    name_key,
    new_figure,
    save_chart,
    styled,
    wrap,
)
from caresim.outputs.run_data import RunData

FLOW_RANKS = {
    "crisis": 0,
    "readmission": 0,
    "referral_from_home": 0,
    "gp": 1,
    "nhs_111": 1,
    "111_out_of_hours": 1,
    "out_of_hours": 1,
    "ambulance": 1,
    "minor_injury_unit": 2,
    "a_and_e": 2,
    "a_e": 2,
    "emergency_department": 2,
    "rapid_response": 2,
    "acute_beds": 3,
    "intermediate_care_beds": 4,
    "reablement": 4,
    "home_care": 4,
    "care_homes": 5,
    "home": 5,
    "death": 5,
    "turned_away": 5,
}
FLOW_COLUMN_SPACING = 1.6
FLOW_BOX_WIDTH = 1.12
FLOW_BOX_HEIGHT = 0.5
FLOW_LANE_STEP = 0.085
FLOW_COLUMN_COLOURS = (GREY, SKY_BLUE, ORANGE, VERMILLION, BLUISH_GREEN, BLUE, REDDISH_PURPLE)


def _tint(colour: str, strength: float) -> tuple[float, float, float]:
    """An opaque lighter shade of a colour, so overlapping arrows do not darken."""
    red, green, blue = matplotlib.colors.to_rgb(colour)
    return tuple(strength * channel + (1 - strength) for channel in (red, green, blue))


def _flow_layout(nodes: list[str]) -> dict[str, tuple[int, int]]:
    """Grid (column, row) of each node: columns by FLOW_RANKS, unknown nodes in a last column."""
    last = max(FLOW_RANKS.values()) + 1
    order = {key: index for index, key in enumerate(FLOW_RANKS)}
    columns: dict[int, list[str]] = {}
    for node in sorted(nodes, key=lambda name: (order.get(name_key(name), len(order)), name)):
        columns.setdefault(FLOW_RANKS.get(name_key(node), last), []).append(node)
    tallest = max(len(members) for members in columns.values())
    grid = {}
    for column, (_, members) in enumerate(sorted(columns.items())):
        first_row = round((tallest - len(members)) / 2)
        for offset, node in enumerate(members):
            grid[node] = (column, first_row + offset)
    return grid


def _flow_lane(source: tuple[int, int], target: tuple[int, int], grid: dict[str, tuple[int, int]]) -> float:
    """The row (or half row between rows) on which a long forward arrow passes the columns in between."""
    between = {(column, row) for column, row in grid.values() if source[0] < column < target[0]}
    columns_between = {column for column, _ in between}
    for row in (source[1], target[1]):
        if all((column, row) not in between for column in columns_between):
            return float(row)
    step = 0.5 if target[1] >= source[1] else -0.5
    return source[1] + step


def _flow_kind(source: tuple[int, int], target: tuple[int, int]) -> str:
    """next: neighbouring column; long: skips columns; down: same column, next row; side: same column;
    back: to an earlier column."""
    if target[0] == source[0]:
        return "down" if abs(target[1] - source[1]) == 1 else "side"
    if target[0] < source[0]:
        return "back"
    return "next" if target[0] == source[0] + 1 else "long"


def _flow_lanes(routed: pd.DataFrame, grid: dict[str, tuple[int, int]]) -> pd.Series:
    """Height of the horizontal run of each long arrow; arrows sharing a gap are spread into lanes."""
    lane_row = pd.Series(math.nan, index=routed.index)
    for index, row in routed[routed["kind"] == "long"].iterrows():
        lane_row[index] = _flow_lane(grid[row["source"]], grid[row["target"]], grid)
    lane_y = -lane_row
    for _, edges in routed.loc[lane_row.dropna().index].groupby(lane_row.dropna()):
        ends: list[int] = []
        lanes = {}
        for index, edge in edges.sort_values(["source_column", "target_column"]).iterrows():
            lane = next((number for number, end in enumerate(ends) if end <= edge["source_column"]), len(ends))
            if lane == len(ends):
                ends.append(edge["target_column"])
            else:
                ends[lane] = edge["target_column"]
            lanes[index] = lane
        step = min(FLOW_LANE_STEP, (1 - FLOW_BOX_HEIGHT - 0.12) / max(len(ends) - 1, 1))
        for index, lane in lanes.items():
            lane_y[index] -= (lane - (len(ends) - 1) / 2) * step
    return lane_y


def _flow_ports(routed: pd.DataFrame, node_column: str, heading: pd.Series) -> pd.Series:
    """Spread the arrows leaving (or entering) each box along its edge, ordered by where they head."""
    ports = pd.Series(0.0, index=routed.index)
    for _, edges in routed.groupby(node_column):
        ordered = heading[edges.index].sort_values(ascending=False).index
        spread = np.linspace(0.3, -0.3, len(ordered)) * FLOW_BOX_HEIGHT if len(ordered) > 1 else np.zeros(1)
        ports[ordered] = spread
    return ports + routed[f"{node_column}_y"]


def _cubic_point(points: list[tuple[float, float]], share: float) -> tuple[float, float]:
    weights = ((1 - share) ** 3, 3 * (1 - share) ** 2 * share, 3 * (1 - share) * share**2, share**3)
    return (
        sum(w * x for w, (x, _) in zip(weights, points, strict=True)),
        sum(w * y for w, (_, y) in zip(weights, points, strict=True)),
    )


def _flow_route(route, gap: float) -> tuple[MatplotlibPath, tuple[float, float]]:
    """The drawn path of one arrow and where its volume label goes."""
    half_width, half_height = FLOW_BOX_WIDTH / 2, FLOW_BOX_HEIGHT / 2
    curve = [MatplotlibPath.MOVETO] + [MatplotlibPath.CURVE4] * 3
    start_x, end_x = route.source_x + half_width, route.target_x - half_width
    if route.kind == "next":
        middle = (start_x + end_x) / 2
        points = [(start_x, route.start_y), (middle, route.start_y), (middle, route.end_y), (end_x, route.end_y)]
        return MatplotlibPath(points, curve), _cubic_point(points, 0.3)
    if route.kind == "long":
        lane_start, lane_end = start_x + gap, end_x - gap
        points = [
            (start_x, route.start_y),
            (start_x + gap / 2, route.start_y),
            (lane_start - gap / 2, route.lane_y),
            (lane_start, route.lane_y),
            (lane_end, route.lane_y),
            (lane_end + gap / 2, route.lane_y),
            (end_x - gap / 2, route.end_y),
            (end_x, route.end_y),
        ]
        codes = [*curve, MatplotlibPath.LINETO, *curve[1:]]
        return MatplotlibPath(points, codes), ((lane_start + lane_end) / 2, route.lane_y)
    if route.kind == "down":
        step = half_height if route.target_y < route.source_y else -half_height
        points = [(route.source_x, route.source_y - step), (route.target_x, route.target_y + step)]
        middle = (route.source_x, (route.source_y + route.target_y) / 2)
        return MatplotlibPath(points, [MatplotlibPath.MOVETO, MatplotlibPath.LINETO]), middle
    if route.kind == "side":
        bulge = start_x + gap * 0.6
        points = [(start_x, route.start_y), (bulge, route.start_y), (bulge, route.target_y), (start_x, route.target_y)]
        return MatplotlibPath(points, curve), _cubic_point(points, 0.5)
    top = max(route.source_y, route.target_y) + half_height
    points = [
        (route.source_x, route.source_y + half_height),
        (route.source_x, top + 0.42),
        (route.target_x, top + 0.42),
        (route.target_x, route.target_y + half_height),
    ]
    return MatplotlibPath(points, curve), _cubic_point(points, 0.5)


def _flow_paths(flows: pd.DataFrame, grid: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Positions, kinds, lanes, ports, drawn paths and label points of every arrow."""
    routed = flows.reset_index(drop=True)
    for end in ("source", "target"):
        routed[f"{end}_column"] = [grid[node][0] for node in routed[end]]
        routed[f"{end}_x"] = routed[f"{end}_column"] * FLOW_COLUMN_SPACING
        routed[f"{end}_y"] = [-float(grid[node][1]) for node in routed[end]]
    routed["kind"] = [_flow_kind(grid[r.source], grid[r.target]) for r in routed.itertuples()]
    routed["lane_y"] = _flow_lanes(routed, grid)
    right_edge = routed["kind"].isin(["next", "long", "side"])
    left_edge = routed["kind"].isin(["next", "long"])
    leaving_to = routed["lane_y"].fillna(routed["target_y"]).where(right_edge, math.inf)
    arriving_from = routed["lane_y"].fillna(routed["source_y"]).where(left_edge, math.inf)
    routed["start_y"] = _flow_ports(routed, "source", leaving_to)
    routed["end_y"] = _flow_ports(routed, "target", arriving_from)
    drawn = [_flow_route(route, FLOW_COLUMN_SPACING - FLOW_BOX_WIDTH) for route in routed.itertuples()]
    routed["path"] = [path for path, _ in drawn]
    routed["label_x"] = [x for _, (x, _) in drawn]
    routed["label_y"] = [y for _, (_, y) in drawn]
    return routed


@styled
def flow_diagram(run: RunData) -> pd.DataFrame:
    """Patient flow between services in the baseline (flows.csv), arrow width proportional to volume."""
    flows = run.flows[["source", "target", "per_year"]]
    nodes = sorted(set(flows["source"]) | set(flows["target"]))
    grid = _flow_layout(nodes)
    routed = _flow_paths(flows, grid)
    inflow = flows.groupby("target")["per_year"].sum()
    outflow = flows.groupby("source")["per_year"].sum()

    rows = max(row for _, row in grid.values()) + 1
    loops = bool((routed["kind"] == "back").any())
    figure = new_figure(1.15 * (rows + (0.4 if loops else -0.1)) + 1.4)
    axes = figure.add_subplot()
    axes.set_axis_off()
    columns = max(column for column, _ in grid.values()) + 1
    for node, (column, row) in grid.items():
        x, y = column * FLOW_COLUMN_SPACING, -float(row)
        colour = FLOW_COLUMN_COLOURS[column % len(FLOW_COLUMN_COLOURS)]
        axes.add_patch(
            FancyBboxPatch(
                (x - FLOW_BOX_WIDTH / 2, y - FLOW_BOX_HEIGHT / 2),
                FLOW_BOX_WIDTH,
                FLOW_BOX_HEIGHT,
                boxstyle="round,pad=0,rounding_size=0.06",
                facecolor=_tint(colour, 0.2),
                edgecolor=colour,
                linewidth=1.2,
                zorder=3,
            )
        )
        volume = inflow.get(node, outflow.get(node, 0.0))
        axes.text(
            x,
            y + 0.07,
            wrap(label(node), 13),
            ha="center",
            va="center",
            fontsize=6.8,
            fontweight="bold",
            zorder=4,
            linespacing=1.0,
        )
        axes.text(
            x,
            y - 0.16,
            f"{format_number(volume)} a year",
            ha="center",
            va="center",
            fontsize=6,
            zorder=4,
            color="#333333",
        )
    largest = float(flows["per_year"].max())
    for route in routed.itertuples():
        width = 0.5 + 5.5 * route.per_year / largest
        colour = VERMILLION if route.kind == "back" else BLUE
        axes.add_patch(
            FancyArrowPatch(
                path=route.path,
                arrowstyle="-|>",
                mutation_scale=4 + width,
                linewidth=width,
                color=_tint(colour, 0.55),
                zorder=2,
            )
        )
        axes.text(
            route.label_x,
            route.label_y,
            format_number(route.per_year),
            ha="center",
            va="center",
            fontsize=5.8,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
        )
    axes.set_xlim(-FLOW_BOX_WIDTH / 2 - 0.05, (columns - 1) * FLOW_COLUMN_SPACING + FLOW_BOX_WIDTH / 2 + 0.05)
    axes.set_ylim(-(rows - 1) - 0.45, 0.95 if loops else 0.45)

    starts = [node for node in nodes if node not in set(flows["target"])]
    entering = float(flows[flows["source"].isin(starts)]["per_year"].sum())
    biggest = flows.sort_values("per_year").iloc[-1]
    title = (
        f"In the baseline {format_number(entering)} people a year enter the system; the largest flow is "
        f"{label(biggest['source'])} to {label(biggest['target'])} ({format_number(biggest['per_year'])} a year)"
    )
    alt_text = "Flow diagram of patients per year between services, baseline mean. " + "; ".join(
        f"{label(row.source)} to {label(row.target)}: {format_number(row.per_year)}"
        for row in flows.sort_values("per_year", ascending=False).itertuples()
    )
    note = (
        "Arrow width is proportional to patients per year (baseline mean); labels are patients per year. "
        "Blue arrows run forward; vermillion arrows loop back to an earlier service."
    )
    save_chart(figure, run, "flow_diagram", title, alt_text + ".", note)
    return routed.drop(columns="path")
