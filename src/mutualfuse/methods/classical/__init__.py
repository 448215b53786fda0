"""Classical fusion baselines of the paper's comparison (registered on import)."""
