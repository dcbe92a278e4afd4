"""A small map of Jamaica's parishes, each filled by a figure (the map pane's polygons, drawn with
QPainter: no web view, nothing to download)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from c360_desktop.core.geo.map_page import parish_geojson

LOW, HIGH = QColor("#e8eef5"), QColor("#1f4e79")


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [ring for polygon in polygons for ring in polygon]


class ParishMap(QWidget):
    """``show_values({"St. Ann": 1.2e6, ...}, formatter)``: parishes by name as addresses write them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from c360_desktop.core import jamaica

        self.setMinimumHeight(280)
        names = {p.code: p.address_name for p in jamaica.parish_by_code().values()}
        self.shapes: dict[str, list[list[list[float]]]] = {}
        for f in parish_geojson()["features"]:
            self.shapes[names.get(f["properties"]["iso_3166_2"], f["properties"]["name"])] = _rings(f["geometry"])
        xs = [x for rings in self.shapes.values() for ring in rings for x, _y in ring]
        ys = [y for rings in self.shapes.values() for ring in rings for _x, y in ring]
        self.bounds = QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
        self.values: dict[str, float] = {}
        self.text: dict[str, str] = {}
        self.title = ""

    def show_values(self, values: dict[str, float], text: dict[str, str], title: str) -> None:
        self.values, self.text, self.title = values, text, title
        self.update()

    def colour(self, name: str) -> QColor:
        v = self.values.get(name)
        if v is None or v != v or not self.values:
            return QColor("#f4f4f4")
        lo, hi = min(self.values.values()), max(self.values.values())
        t = 0.0 if hi == lo else (v - lo) / (hi - lo)
        return QColor(int(LOW.red() + t * (HIGH.red() - LOW.red())), int(LOW.green() + t * (HIGH.green() - LOW.green())),
                      int(LOW.blue() + t * (HIGH.blue() - LOW.blue())))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        margin = 24
        scale = min((self.width() - 2 * margin) / self.bounds.width(), (self.height() - 2 * margin - 16)
                    / self.bounds.height())

        def at(x: float, y: float) -> QPointF:  # longitude right, latitude up
            return QPointF(margin + (x - self.bounds.left()) * scale,
                           margin + 16 + (self.bounds.bottom() - y) * scale)

        p.setPen(QColor("#333333"))
        p.drawText(QRectF(0, 2, self.width(), 18), Qt.AlignmentFlag.AlignHCenter, self.title)
        small = p.font()
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        p.setFont(small)
        for name, rings in self.shapes.items():
            path = QPainterPath()
            for ring in rings:
                path.addPolygon(QPolygonF([at(x, y) for x, y in ring]))
                path.closeSubpath()
            p.setPen(QPen(QColor("white"), 1.2))
            p.setBrush(self.colour(name))
            p.drawPath(path)
        for name, rings in self.shapes.items():
            box = QPolygonF([at(x, y) for x, y in max(rings, key=len)]).boundingRect()
            value = self.values.get(name)
            dark = value is not None and self.colour(name).lightness() < 128
            p.setPen(QColor("white" if dark else "#222222"))
            label = name if name not in self.text else f"{name}\n{self.text[name]}"
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        p.end()
