"""Where uploaded images live: a local directory by default, or an S3-compatible bucket.

A stage picks one with `build_storage(settings)` (factory.py) and talks to it only through
the `ImageStorage` interface (base.py); `inspect_image` (images.py) checks the bytes first.
"""
