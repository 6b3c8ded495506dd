"""What the report draws from the model, as plain data that ``report-memo.json`` keeps (``vaelab.report.memo``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vaelab.report.html import Section
from vaelab.report.memo import sections_from_json, sections_to_json


@dataclass(frozen=True)
class ModelFigures:
    """The sections drawn from the model (those before and after the KL section, which may come from an eval
    file instead), the KL per dimension on the report's examples, and what the page says about the model."""

    before_kl: list[Section]
    after_kl: list[Section]
    kl_per_dim: list[float] | None  # None: no per-dimension split, or no data, or a graph (no KL section)
    kl_source: str
    split: str
    used: str  # the footer's sentence about the examples
    cards: list[tuple[str, str]]  # the header's cards about the model
    latent_dim: int
    has_kl_section: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if k not in {"before_kl", "after_kl"}},
            "before_kl": sections_to_json(self.before_kl),
            "after_kl": sections_to_json(self.after_kl),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelFigures:
        return cls(
            **{
                **data,
                "before_kl": sections_from_json(data["before_kl"]),
                "after_kl": sections_from_json(data["after_kl"]),
                "cards": [tuple(card) for card in data["cards"]],
            }
        )
