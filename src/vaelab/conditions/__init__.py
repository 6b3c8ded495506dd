"""Conditions: what a conditional model is given besides x, turned into features ``(B, dim)``.

A condition is a part like a prior or a likelihood: the VAE appends its features to the encoder's output
and to z before decoding (Sohn et al. 2015, "Learning structured output representation using deep
conditional generative models"). A model without one is unconditional.
"""

from vaelab.conditions.classes import ClassCondition
from vaelab.conditions.columns import ColumnsCondition
from vaelab.conditions.vectors import VectorCondition

__all__ = ["ClassCondition", "ColumnsCondition", "VectorCondition"]
