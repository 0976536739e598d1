"""A simulated city for `make simulate`: drivers and riders as real clients of the stage."""
