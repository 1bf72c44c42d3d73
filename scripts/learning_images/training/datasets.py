"""Datasets a PyTorch ``DataLoader`` takes, without this package importing torch.

- :class:`SampleDataset`, map-style: ``len()`` and ``dataset[i]`` -> ``(image bytes, fields)``.
  An image that cannot be handed out raises :class:`~learning_images.training.reader.UnavailableError`
  naming it: a map-style index cannot be skipped silently (filter with a ``collate_fn``, or use the
  stream).
- :class:`SampleStream`, iterable: every image that can be handed out, read concurrently, the
  others named in ``reader.counts.skipped``. With several ``DataLoader`` workers, each reads its
  share (torch's ``get_worker_info``, asked only when a worker runs it). ``DataLoader`` treats only
  a subclass of torch's ``IterableDataset`` as iterable: :func:`torch_stream` makes one, importing
  torch when the caller does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any

from learning_images.training.reader import Reader
from learning_images.training.selection import Sample


class SampleDataset:
    def __init__(self, reader: Reader, samples: Sequence[Sample]) -> None:
        self.reader, self.samples = reader, list(samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[bytes, dict[str, str]]:
        sample = self.samples[index]
        return self.reader.read(sample), dict(sample.fields)


def _worker_share() -> tuple[int, int]:
    """(this worker's number, how many workers): torch's, where torch runs this in a worker."""
    torch_data = sys.modules.get("torch.utils.data")
    info = torch_data.get_worker_info() if torch_data is not None else None
    return (info.id, info.num_workers) if info is not None else (0, 1)


class SampleStream:
    def __init__(self, reader: Reader, samples: Sequence[Sample]) -> None:
        self.reader, self.samples = reader, list(samples)

    def __iter__(self) -> Iterator[tuple[bytes, dict[str, str]]]:
        worker, workers = _worker_share()
        share = self.samples[worker::workers]
        for sample, data in self.reader.read_all(share):
            yield data, dict(sample.fields)


def torch_stream(stream: SampleStream) -> Any:
    """``stream`` as a ``torch.utils.data.IterableDataset`` (torch is imported here, by the caller's wish)."""
    from torch.utils.data import IterableDataset  # type: ignore[import-not-found]  # noqa: PLC0415 (the caller's torch)

    class Stream(IterableDataset):  # type: ignore[misc]
        def __iter__(self) -> Iterator[tuple[bytes, dict[str, str]]]:
            return iter(stream)

    return Stream()
