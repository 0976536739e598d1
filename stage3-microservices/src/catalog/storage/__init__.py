"""Where product images live: a local directory by default, or an S3-compatible bucket."""
