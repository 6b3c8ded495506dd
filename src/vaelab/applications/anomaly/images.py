"""Images for the detector: (N, H, W) or (N, C, H, W), uint8 grey levels or floats in [0, 1]."""

from __future__ import annotations

from typing import Any

import numpy as np

from vaelab.applications.anomaly.validation import InvalidInput

UINT8_LEVELS = 255


class ImagePreprocessor:
    """Checks image batches against the training shape and maps them to float32 in [0, 1], (N, C, H, W)."""

    def fit(self, x: np.ndarray) -> ImagePreprocessor:
        self.data_shape_ = self._to_unit(x).shape[1:]
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        images = self._to_unit(x)
        if images.shape[1:] != self.data_shape_:
            raise InvalidInput(
                f"images have shape {images.shape[1:]} (C, H, W) but the detector was fitted on "
                f"{self.data_shape_}; give images of the training shape"
            )
        return images

    def state(self) -> dict[str, Any]:
        """The fitted state as JSON types (:meth:`from_state` reads it back)."""
        return {"data_shape": list(self.data_shape_)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ImagePreprocessor:
        """The fitted preprocessor :meth:`state` describes; a malformed state raises KeyError, TypeError or
        ValueError."""
        shape = tuple(int(n) for n in state["data_shape"])
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"data_shape {list(shape)} is not (C, H, W)")
        preprocessor = cls()
        preprocessor.data_shape_ = shape
        return preprocessor

    @staticmethod
    def _to_unit(x: np.ndarray) -> np.ndarray:
        if x.ndim not in (3, 4):
            raise InvalidInput(f"images must be (N, H, W) or (N, C, H, W); got shape {x.shape}")
        images = x[:, None] if x.ndim == 3 else x
        if images.dtype == np.uint8:
            return images.astype(np.float32) / UINT8_LEVELS
        if images.dtype.kind not in "biuf":
            raise InvalidInput(f"images hold {images.dtype} values; give uint8 grey levels or floats in [0, 1]")
        values = images.astype(np.float32)
        outside = ~((values >= 0) & (values <= 1))  # also catches NaN
        if outside.any():
            row = int(np.flatnonzero(outside.reshape(len(values), -1).any(axis=1))[0])
            raise InvalidInput(
                f"image {row} has values outside [0, 1] (or NaN); give uint8 grey levels or floats in [0, 1]"
            )
        return values
