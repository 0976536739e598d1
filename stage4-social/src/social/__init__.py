"""Stage 4: a social network, read-heavy: a follow graph, posts and likes, and home
timelines fanned out on write through RabbitMQ into Redis, merged on read for large accounts."""
