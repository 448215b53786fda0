"""mutualfuse: unsupervised deep image fusion by feature mutual mapping (Rao et al.)."""
__version__ = "0.1.0"
