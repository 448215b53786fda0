"""An option a sub-command does not know is refused naming that command and its --help (session 26).

argparse reported it from the top parser: ``mutualfuse: error: unrecognized arguments: --token-budget 0
(see mutualfuse --help)``, which does not say which command refused it nor where its options are listed."""
from one_line_error import assert_one_line_error


def test_unknown_option_names_the_command(capsys):
    assert_one_line_error(capsys, ["demo", "--token-budget", "0"],
                          "demo: unrecognized arguments: --token-budget 0", "see mutualfuse demo --help")


def test_unknown_option_of_another_command(capsys):
    assert_one_line_error(capsys, ["methods", "--frobnicate"],
                          "methods: unrecognized arguments: --frobnicate", "see mutualfuse methods --help")
