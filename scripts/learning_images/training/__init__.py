"""The training pipeline's reader: the contract's query pattern, table -> ``image_reference`` ->
fetch -> verify, with the training tier's read-only credential.

- :mod:`.selection`: which samples an epoch reads (the contract's fields, a snapshot time);
- :mod:`.cache`: a local content-addressed cache, so a second epoch downloads nothing;
- :mod:`.reader`: concurrent reads, each image checked against its row before it is handed out;
- :mod:`.datasets`: a map-style and an iterable dataset a PyTorch ``DataLoader`` takes, without
  this package importing torch.

``learning-images-fetch`` (``learning_images.ops.fetch``) is the same for a job that wants files.
"""
