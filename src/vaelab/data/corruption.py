"""Corruption processes p(x~|x) on model-space images in [0, 1], ``(B, *shape)``: the noise a denoising
objective trains against and a denoising benchmark measures.

Both are among the corruptions of Vincent et al. 2010 ("Stacked denoising autoencoders", JMLR 11). Configs
and the command line name one as ``NAME:LEVEL`` (``gaussian:0.3``, ``salt-and-pepper:0.2``): see
``parse_corruption``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from vaelab.errors import UserError


class Corruption(ABC):
    """A corruption process: ``corruption(x, generator)`` draws x~ ~ p(x~|x), one draw per entry of ``x``."""

    name: ClassVar[str]

    @abstractmethod
    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor: ...

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Pydantic reads a ``NAME:LEVEL`` string as a corruption: ``vaelab.config.build`` checks each objective
        option against the objective's field type, so ``objective.corruption=gaussian:0.3`` works from a config."""
        return core_schema.no_info_before_validator_function(
            lambda value: parse_corruption(value) if isinstance(value, str) else value,
            core_schema.is_instance_schema(cls),
        )


@dataclass(frozen=True)
class GaussianNoise(Corruption):
    """Additive isotropic Gaussian noise, clipped to the data range: ``x~ = clip(x + std eps, 0, 1)``,
    eps ~ N(0, I) (Vincent et al. 2010, additive isotropic Gaussian noise; the clip keeps x~ an image)."""

    std: float
    name: ClassVar[str] = "gaussian"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.std) and self.std >= 0):
            raise UserError(f"the Gaussian noise's std must be a number of at least 0, not {self.std}")

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + self.std * eps).clamp(0.0, 1.0)


@dataclass(frozen=True)
class SaltAndPepper(Corruption):
    """Salt-and-pepper (impulse) noise: each entry independently, with probability ``rate``, is set to 0 or to 1
    with equal chance, and kept otherwise (Vincent et al. 2010 set a fixed fraction ``rate`` of the entries
    this way; here the fraction is ``rate`` in expectation). On binary data it flips each entry with
    probability ``rate / 2``."""

    rate: float
    name: ClassVar[str] = "salt-and-pepper"

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise UserError(f"the salt-and-pepper rate must be between 0 and 1, not {self.rate}")

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        u = torch.rand(x.shape, generator=generator, device=x.device)  # one uniform per entry
        return torch.where(u < self.rate / 2, 0.0, torch.where(u < self.rate, 1.0, x)).to(x.dtype)


CORRUPTIONS: dict[str, Callable[[float], Corruption]] = {
    GaussianNoise.name: GaussianNoise,
    SaltAndPepper.name: SaltAndPepper,
}
"""Corruption name -> its class, built from its one level (the std or the rate)."""


def parse_corruption(text: str) -> Corruption:
    """``"gaussian:0.3"`` -> ``GaussianNoise(0.3)``, ``"salt-and-pepper:0.2"`` -> ``SaltAndPepper(0.2)``; a
    one-line ``UserError`` on anything else."""
    name, _, level = text.partition(":")
    name = name.strip()
    usage = f"write NAME:LEVEL with NAME one of {', '.join(CORRUPTIONS)}, e.g. gaussian:0.3 or salt-and-pepper:0.2"
    if name not in CORRUPTIONS:
        raise UserError(f"unknown corruption {text!r}; {usage}")
    try:
        value = float(level)
    except ValueError:
        raise UserError(f"corruption {text!r} has no numeric level; {usage}") from None
    return CORRUPTIONS[name](value)
