"""Bar chart geometry: bars in order, scaled to the largest value, inside the chart."""

from __future__ import annotations

from models.present.charts import columns, rows


def test_columns_scale_to_the_largest_and_stand_on_the_baseline() -> None:
    chart = columns([("1 Dec", 2), ("2 Dec", 0), ("3 Dec", 4)], width=300, height=100)

    assert [bar.label for bar in chart.bars] == ["1 Dec", "2 Dec", "3 Dec"]
    assert [bar.height for bar in chart.bars] == [50, 0, 100]
    assert all(bar.y + bar.height == 100 for bar in chart.bars)
    assert all(bar.x >= 0 and bar.x + bar.width <= 300 for bar in chart.bars)
    assert chart.bars[0].x < chart.bars[1].x < chart.bars[2].x


def test_rows_are_as_long_as_their_share_and_nothing_divides_by_zero() -> None:
    chart = rows([("submitted", 3), ("recovered", 1)], width=120, row=20)
    empty = rows([("submitted", 0)], width=120)

    assert [bar.width for bar in chart.bars] == [120, 40]
    assert [bar.y for bar in chart.bars] == [2, 22]
    assert chart.height == 40
    assert [bar.width for bar in empty.bars] == [0]
