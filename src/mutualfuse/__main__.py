"""``python -m mutualfuse`` (also what ``torchrun -m mutualfuse train ...`` runs)."""
import sys

from .cli import main

sys.exit(main())
