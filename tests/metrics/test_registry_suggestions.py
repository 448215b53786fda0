"""'Did you mean' names registered keys as they are spelled, and profiles suggest too."""
import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.metrics import resolve


def test_unknown_metric_suggests_the_registered_spelling():
    with pytest.raises(ParameterError) as e:
        resolve(["Qabff"])
    assert "did you mean Qabf@vifb?" in str(e.value)


def test_unknown_profile_suggests_and_profiles_are_case_insensitive():
    with pytest.raises(ParameterError) as e:
        resolve(profile="lui")
    assert "did you mean liu?" in str(e.value)
    assert resolve(profile="LIU") == resolve(profile="liu")
