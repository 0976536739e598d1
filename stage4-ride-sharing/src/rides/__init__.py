"""Stage 4: ride sharing, a capstone on real-time systems."""
