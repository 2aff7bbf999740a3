"""Surge detection measured, and each playbook on its planted signal, paired.

``scenarios/surge_planted.toml`` plants a volume surge (North x A from day 42),
an absence of six South engineers (a delay surge from day 49) and a quality
drop (North x B from day 56). Its demand has a random stream of its own, so a
run with one playbook and a run with none see the very same opportunities and
tickets: the pairs differ only by what the playbook did.

Tolerances (per seed, three seeds):

* ``delay_grab`` posts more grab orders in the absent region than the run
  without it, on every seed; it may not add more than 3 severe starts on
  average (over ten seeds it adds about 1: grab orders take time to fill).
* ``volume_widen`` books engineers from the other region (none without it);
  it may not add more than 5 late starts on average.
* ``rating_upgrade`` raises the mean proficiency of the engineers serving the
  cell on every seed; the mean rating may fall by at most 0.3 (over ten seeds
  it is within 0.05: better fit is offset by later starts with fewer
  engineers to choose from).
"""

import pandas as pd
import pytest

from models.scenario import load_scenario
from models.surge_measure import (
    Planted,
    detection_delays,
    false_alarms,
    first_alert_delay,
    paired_playbook,
    with_playbooks,
)

SEEDS = [1, 2, 3]
HORIZON = {"delay_grab": 59, "volume_widen": 58, "rating_upgrade": 70}


@pytest.fixture(scope="module")
def planted(repo_root):
    """The planted-surge scenario."""
    return load_scenario(repo_root / "scenarios" / "surge_planted.toml")


def pairs(planted, playbook):
    """Paired with / without table, one row per seed and arm, indexed by seed."""
    s = planted.model_copy(deep=True)
    s.scenario.horizon_days = HORIZON[playbook]
    table = paired_playbook(s, playbook, SEEDS)
    with_ = table[table["arm"] == "with"].set_index("seed")
    without = table[table["arm"] == "without"].set_index("seed")
    # It fires on its planted signal on every seed, and only when in force.
    assert (with_["applied"] >= 1).all() and (without["applied"] == 0).all()
    assert (without["alerts"] >= 1).all()
    return with_, without


def test_delay_grab_opens_grab_orders_in_the_delayed_region(planted):
    with_, without = pairs(planted, "delay_grab")
    assert (with_["grab_orders"] > without["grab_orders"]).all()
    assert with_["severe"].mean() <= without["severe"].mean() + 3
    assert (with_["unserved"] == 0).all()


def test_volume_widen_borrows_engineers_of_other_regions(planted):
    with_, without = pairs(planted, "volume_widen")
    assert with_["cross_region"].sum() > 0
    assert (without["cross_region"] == 0).all()
    assert with_["late"].mean() <= without["late"].mean() + 5


def test_rating_upgrade_sends_more_proficient_engineers(planted):
    with_, without = pairs(planted, "rating_upgrade")
    assert (with_["mean_proficiency"] > without["mean_proficiency"]).all()
    assert with_["mean_rating"].mean() >= without["mean_rating"].mean() - 0.3


def test_detection_delay_of_a_planted_volume_surge(planted):
    s = planted.model_copy(deep=True)
    s.scenario.horizon_days = 53
    s.control.playbooks = []
    delays = detection_delays(s, SEEDS, "volume")
    # Over 40 seeds: 39 detected while the 10-day surge lasted, mean 2.5 days.
    assert all(d is not None for d in delays)
    assert sum(delays) / len(delays) <= 5


def test_false_alarms_of_the_flat_twin(planted):
    fa = false_alarms(with_playbooks(planted, []), SEEDS)
    assert fa.key_days == len(SEEDS) * 4 * (70 - 28)
    # Over 40 seeds: 0.025 alerts per key-day over all three signals.
    assert fa.rate() <= 0.05
    assert fa.rate("volume") <= 0.03 and fa.rate("rating") <= 0.01


def test_first_alert_delay_counts_only_its_cells_signal_and_days():
    p = Planted("volume", (("N", "A"),), start_day=10, days=5)
    alerts = pd.DataFrame(
        [
            (9, "N", "A", "volume"),  # before the surge
            (11, "N", "B", "volume"),  # another cell
            (12, "N", "A", "delay"),  # another signal
            (13, "N", "A", "volume"),  # the first that counts: 3 days
            (14, "N", "A", "volume"),
        ],
        columns=["day", "region", "solution", "signal"],
    )
    assert first_alert_delay(alerts, p) == 3
    assert first_alert_delay(alerts[alerts["day"] < 13], p) is None
    late = alerts.assign(day=alerts["day"] + 6)  # all after the surge ended
    assert first_alert_delay(late, p) is None
