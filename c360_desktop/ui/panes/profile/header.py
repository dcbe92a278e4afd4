"""The 360 header card: who the customer is and how they buy, at a glance, with model scores."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout

from c360_desktop.core.models import ModelScore, UnifiedCustomerProfile
from c360_desktop.ui.format import format_jmd, format_phone, local_date, parish_name, trn_text

SCORE_LABELS = {
    "churn": ("Churn risk", "no churn model has been trained on this cache yet"),
    "clv": ("Lifetime value", "no lifetime-value model has been trained on this cache yet"),
    "lead": ("Lead score", "no lead-scoring model has been trained on this cache yet"),
}


def _score_text(score: ModelScore | None, model: str) -> str:
    label, missing = SCORE_LABELS[model]
    if score is None:
        return f"<b>{label}:</b> <i>not scored: {missing}</i>"
    value = f"{score.value:.0%}" if model == "churn" else (
        format_jmd(round(score.value * 100)) if model == "clv" else f"{score.value:.0f}/100")
    if model == "churn":  # reasons in percentage points of risk
        reasons = "; ".join(f"{escape(c.feature)}: {c.contribution:+.1f} points" for c in score.top_reasons(3))
    elif model == "clv":  # the quantities it is made of, each said in full
        reasons = "; ".join(escape(c.feature) for c in score.contributions)  # three, or four after "by the regression"
    else:  # the lead model's reasons, in score points
        reasons = "; ".join(f"{escape(c.feature)}: {c.contribution:+.1f} points" for c in score.top_reasons(3))
    return f"<b>{label}:</b> {value} <small>(model {escape(score.model_version)})</small> {reasons}"


class HeaderCard(QFrame):
    """Identity, contact points, parish, segment, spend and scores at a glance."""

    FIELDS = ("Phone", "Lifetime spend", "E-mail", "Last 12 months", "Address", "Purchases",
              "Parish", "Last purchase", "TRN", "Open leads", "Customer since", "Rep")

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("header_card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.title.setObjectName("customer_name")
        font = self.title.font()
        font.setPointSize(font.pointSize() + 6)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel()
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        for i, name in enumerate(self.FIELDS):
            key = QLabel(f"{name}:")
            key.setStyleSheet("color: palette(mid);")
            value = QLabel("—")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setObjectName(f"field_{name.lower().replace(' ', '_').replace('-', '')}")
            self.values[name] = value
            row, col = divmod(i, 2)
            grid.addWidget(key, row, col * 2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, col * 2 + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.scores = QLabel()
        self.scores.setObjectName("scores")
        self.scores.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addLayout(grid)
        layout.addWidget(self.scores)

    def show_profile(self, p: UnifiedCustomerProfile) -> None:
        self.title.setText(p.display_name)
        segment = " · ".join(
            f"{s.name}, {s.description}" if s.method == "rfm-model" else s.name for s in p.segments) or "no segment"
        self.subtitle.setText(f"{p.kind.capitalize()} · {segment} · {len(p.source_records)} source records")
        phones = [format_phone(c.value) + (f" ({c.label})" if c.label else "")
                  for c in p.contact_points if c.kind == "phone"]
        emails = [c.value for c in p.contact_points if c.kind == "email"]
        current = next((a for a in p.addresses if a.kind != "previous"), None)
        t = p.transactions
        values = {
            "Phone": ", ".join(phones) or "—",
            "E-mail": ", ".join(emails) or "—",
            "TRN": trn_text(p.trn),
            "Address": f"{current.street}, {current.town}" if current else "—",
            "Parish": parish_name(p.parish),
            "Customer since": local_date(p.created_at),
            "Rep": p.rep_name or "—",
            "Lifetime spend": format_jmd(int(t.lifetime_spend * 100)),
            "Last purchase": local_date(t.last_purchase) if t.last_purchase else "never",
            "Purchases": f"{t.count:,}",
            "Last 12 months": format_jmd(int(t.spend_last_12_months * 100)),
            "Open leads": str(len(p.open_leads)),
        }
        for name, text in values.items():
            self.values[name].setText(text)
        self.scores.setText("<br>".join(_score_text(p.score(m), m) for m in SCORE_LABELS))
