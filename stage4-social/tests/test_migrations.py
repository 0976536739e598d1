"""The models and the migrations agree, and the migrations run down to empty and back."""

from roadmap_shared.testing.migration_tests import (  # noqa: F401  (pytest collects them)
    test_migrations_go_down_to_empty_and_up_again,
    test_models_and_migrations_agree,
)
