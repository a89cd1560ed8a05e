"""The stock chart's geometry: pure arithmetic, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stockroom.dashboard.chart import HEIGHT, MAX_DOTS, WIDTH, Step, step_chart

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def steps(*quantities: int, baseline: int = 0, days_apart: int = 0) -> list[Step]:
    out, total = [], baseline
    for i, quantity in enumerate(quantities):
        total += quantity
        out.append(Step(START + timedelta(days=i * days_apart), "adjustment", quantity, total))
    return out


def test_no_movements_draw_no_chart() -> None:
    assert step_chart(0, []) is None


def test_the_line_steps_from_the_baseline_through_each_total_to_the_right_edge() -> None:
    chart = step_chart(0, steps(10, -4, 6))

    assert chart is not None
    assert (chart.points, chart.last) == (3, 12)
    assert chart.line.startswith(f"M{chart.plot_left:g},{chart.plot_bottom:g}")
    assert chart.line.count("H") == 4  # one per movement, and on to the edge
    assert chart.line.endswith(f"H{chart.plot_right:g}")
    assert chart.area.endswith("Z")
    ys = [dot.y for dot in chart.dots]
    assert ys[1] > ys[0]  # 6 is lower than 10: further down the SVG, a larger y
    assert ys[2] < ys[0]  # 12 is the highest
    assert chart.dots[1].caption == "2026-03-01 09:30 UTC · adjustment −4 → 6"


def test_the_y_axis_starts_at_zero_and_covers_the_highest_total_in_round_steps() -> None:
    chart = step_chart(0, steps(73, -5))

    assert chart is not None
    labels = [tick.label for tick in chart.y_ticks]
    assert labels[0] == "0"
    assert int(labels[-1].replace(",", "")) >= 73
    assert labels == ["0", "20", "40", "60", "80"]
    assert all(chart.plot_top <= tick.position <= chart.plot_bottom for tick in chart.y_ticks)


def test_negative_stock_extends_the_axis_below_zero() -> None:
    chart = step_chart(0, steps(-7, 2))

    assert chart is not None
    assert chart.y_ticks[0].label.startswith("-")
    assert all(chart.plot_top <= dot.y <= chart.plot_bottom for dot in chart.dots)


def test_a_long_history_draws_the_line_but_only_the_newest_dot() -> None:
    chart = step_chart(0, steps(*([1] * (MAX_DOTS + 1))))

    assert chart is not None
    assert len(chart.dots) == 1
    assert chart.dots[0].caption.endswith(f"→ {MAX_DOTS + 1}")
    assert chart.dots[0].x < WIDTH
    assert chart.dots[0].y < HEIGHT


def test_the_x_axis_names_the_first_and_last_day() -> None:
    one_day = step_chart(0, steps(1, 1))
    two_days = step_chart(0, steps(1, 1, days_apart=3))

    assert one_day is not None and two_days is not None
    assert [t.label for t in one_day.x_ticks] == ["2026-03-01"]
    assert [t.label for t in two_days.x_ticks] == ["2026-03-01", "2026-03-04"]
