"""The test harness: a pytest plugin every suite loads with `-p roadmap_shared.testing.plugin`."""
