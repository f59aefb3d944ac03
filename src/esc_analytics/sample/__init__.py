"""The bundled sample history: a seeded generator of mentions, incidents and planned events."""

from ._generate import SampleData, generate_sample, write_sample

__all__ = ["SampleData", "generate_sample", "write_sample"]
