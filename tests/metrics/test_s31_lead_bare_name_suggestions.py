"""s31: an unknown bare metric name that is the part before '@' of registered keys suggests
those keys (``VIF`` -> ``VIF@nestfuse, VIF@0-255``); the spelling comparison alone suggested
``SF@vifb, SD@vifb, MI@vifb`` for ``VIF`` (short keys one letter away) and for ``VIF_BF``."""
from __future__ import annotations

import pytest

from mutualfuse.metrics import METRICS


@pytest.mark.parametrize("bare", ["VIF", "vif", "VIF_BF"])
def test_a_bare_name_suggests_its_own_keys(bare):
    with pytest.raises(Exception) as e:
        METRICS.get(bare)
    msg = str(e.value)
    said = msg.split("did you mean ", 1)[1].split("?", 1)[0].split(", ")
    own = [k for k in METRICS.names() if k.split("@")[0].lower() == bare.lower()]
    assert own and set(said) == set(own)
