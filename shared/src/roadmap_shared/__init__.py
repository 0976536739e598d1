"""The common library every Backend Roadmap stage imports."""
