"""The store on Google Cloud Storage (``backend: gcs``)."""
