"""Surge detection against a trailing baseline, live or on a table.

The same rule runs live inside a simulation (:class:`SurgeDetector`, fed once per
simulated day per key) and after the fact on a daily table (:func:`detect_surges`).

The rule, for one key (say a region x solution) on day ``d``:

* **Daily totals.** Several observations for the same key and day are summed
  (events at the same timestamp are simply added). A day on which a key is not
  observed counts as zero events (and zero trials).
* **Window.** The baseline is the ``window`` days strictly before today:
  days ``d - window`` to ``d - 1``. An observation exactly ``window`` days old is
  in the baseline; one ``window + 1`` days old is out. Today is never in it.
* **Warm-up.** No alert until the baseline has filled: the key's first
  observation must be at least ``window`` days old (``d - first_day >= window``).
* **Count signals** (volume; ``trials`` is None). The baseline rate is the mean
  daily count over the window, floored at ``min_rate`` so that a zero baseline is
  not zero. The p-value is the Poisson upper tail ``P(X >= count)`` at that rate.
* **Proportion signals** (delays among starts, bad ratings among ratings;
  ``trials`` given). The baseline proportion is pooled over the window (sum of
  counts over sum of trials), floored at ``min_share``; it is ``min_share`` when
  the window holds no trials. The p-value is the binomial upper tail
  ``P(X >= count)`` with today's trials at that proportion.
* **Alert** when today's total count is at least ``min_count`` (and above zero,
  so zero against zero never alerts) and the p-value is at most ``alpha``.
* **At most one alert per key and day.** Live, each further observation on the
  same day re-tests the running total; the first crossing alerts and later ones
  on that day do not. For a count signal the p-value only falls as the total
  grows, so live and table detection agree on which key-days alert; the table
  version tests each day's total once.

``alpha`` is a per-key-day tail probability, so on a flat Poisson series the
false-alarm rate per key-day is about ``alpha`` or below (the ``min_count`` floor
and the discreteness of counts make it conservative at low rates).
:func:`measure_detection` measures that rate and the delay to detect a planted
surge.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats


@dataclass(frozen=True)
class SurgeRule:
    """Parameters of the surge test.

    Attributes:
        window: Trailing baseline length in days.
        alpha: One-sided tail probability at or below which a day alerts.
        min_count: Never alert on fewer events than this on the day.
        min_rate: Floor on the baseline daily rate of a count signal.
        min_share: Floor on the baseline proportion of a proportion signal.
    """

    window: int = 14
    alpha: float = 0.01
    min_count: int = 3
    min_rate: float = 0.1
    min_share: float = 0.02

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"window must be at least 1 day, got {self.window}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.min_rate <= 0.0 or not 0.0 < self.min_share < 1.0:
            raise ValueError("min_rate must be > 0 and min_share in (0, 1)")


@dataclass(frozen=True)
class Alert:
    """A detected surge.

    Attributes:
        day: Day of the surge.
        key: The key observed (for example ``(region, solution)``).
        signal: Signal name, such as ``volume``, ``delay`` or ``rating``.
        count: Today's total count when the alert fired.
        baseline_rate: Baseline daily rate (count signal) or proportion
            (proportion signal), after the floor.
        p_value: Upper-tail probability of ``count`` under the baseline.
    """

    day: int
    key: tuple
    signal: str
    count: int
    baseline_rate: float
    p_value: float


@dataclass
class _KeyState:
    """History of one key: daily (count, trials) since its first day."""

    first_day: int
    proportion: bool
    last_day: int
    days: dict[int, list[int]] = field(default_factory=dict)
    alerted_day: int | None = None


def upper_tail(count: int, baseline: float, trials: int | None) -> float:
    """Probability of ``count`` or more under the baseline.

    Args:
        count: Today's count.
        baseline: Daily rate (Poisson) or proportion (binomial).
        trials: Today's trials for a binomial test; None for Poisson.

    Returns:
        ``P(X >= count)``.
    """
    if count <= 0:
        return 1.0
    if trials is None and baseline >= 0:
        # What stats.poisson.sf computes for a valid rate (the clipped pdtrc
        # of the count below), without its per-call array handling.
        return float(min(max(special.pdtrc(float(count - 1), baseline), 0.0), 1.0))
    if trials is None:
        return float(stats.poisson.sf(count - 1, baseline))
    return float(stats.binom.sf(count - 1, trials, baseline))


class SurgeDetector:
    """Live surge detector over many keys for one signal.

    Args:
        rule: The surge rule.
        signal: Name given to alerts; defaults to ``count`` for count signals and
            ``proportion`` for proportion signals.
    """

    def __init__(self, rule: SurgeRule | None = None, signal: str | None = None):
        self.rule = rule or SurgeRule()
        self.signal = signal
        self._keys: dict[Hashable, _KeyState] = {}

    def observe(
        self, day: int, key: tuple, count: int, trials: int | None = None
    ) -> Alert | None:
        """Add one observation and test the key's total for the day.

        Args:
            day: Day index; must not be earlier than the key's latest day.
            key: The key (for example ``(region, solution)``).
            count: Events observed (delayed starts, bad ratings, tickets).
            trials: For a proportion signal, the trials the count is out of
                (starts, ratings); None for a count signal. A key keeps the kind
                it was first observed with.

        Returns:
            An :class:`Alert` when this observation makes the day's total a surge
            and the key has not yet alerted that day, else None.

        Raises:
            ValueError: Negative or inconsistent inputs or a day going back.
        """
        _check_counts(count, trials)
        key = key if isinstance(key, tuple) else (key,)
        state = self._state(day, key, trials)
        totals = state.days.setdefault(day, [0, 0])
        totals[0] += int(count)
        totals[1] += int(trials or 0)
        if state.alerted_day == day:
            return None
        alert = self._test(day, key, state)
        if alert is not None:
            state.alerted_day = day
        return alert

    def baseline(self, day: int, key: tuple) -> float | None:
        """Floored baseline (rate or proportion) of ``key`` for ``day``.

        Args:
            day: The day being tested.
            key: The key.

        Returns:
            The baseline, or None when the key is unknown or not warmed up.
        """
        state = self._keys.get(key if isinstance(key, tuple) else (key,))
        if state is None or day - state.first_day < self.rule.window:
            return None
        return self._baseline(day, state)

    def _state(self, day: int, key: tuple, trials: int | None) -> _KeyState:
        """Fetch or create the key's state, checking day order and kind."""
        proportion = trials is not None
        state = self._keys.get(key)
        if state is None:
            state = _KeyState(day, proportion, day)
            self._keys[key] = state
            return state
        if state.proportion != proportion:
            raise ValueError(f"key {key!r} mixes count and proportion observations")
        if day < state.last_day:
            raise ValueError(f"key {key!r}: day {day} is before day {state.last_day}")
        state.last_day = day
        self._forget(day, state)
        return state

    def _forget(self, day: int, state: _KeyState) -> None:
        """Drop days that can no longer be in any baseline."""
        oldest = day - self.rule.window
        for old in [d for d in state.days if d < oldest]:
            del state.days[old]

    def _baseline(self, day: int, state: _KeyState) -> float:
        """Floored baseline rate or proportion over the trailing window."""
        start = day - self.rule.window
        inside = [v for d, v in state.days.items() if start <= d < day]
        count = sum(v[0] for v in inside)
        if not state.proportion:
            return max(count / self.rule.window, self.rule.min_rate)
        trials = sum(v[1] for v in inside)
        share = count / trials if trials else 0.0
        return max(share, self.rule.min_share)

    def _test(self, day: int, key: tuple, state: _KeyState) -> Alert | None:
        """Apply the rule to the key's total for ``day``."""
        count, trials = state.days[day]
        if count <= 0 or count < self.rule.min_count:
            return None
        if day - state.first_day < self.rule.window:
            return None
        base = self._baseline(day, state)
        p = upper_tail(count, base, trials if state.proportion else None)
        if p > self.rule.alpha:
            return None
        name = self.signal or ("proportion" if state.proportion else "count")
        return Alert(day, key, name, int(count), float(base), p)


def _check_counts(count: int, trials: int | None) -> None:
    """Reject negative counts and counts above their trials."""
    if count < 0 or (trials is not None and trials < 0):
        raise ValueError(f"counts must be >= 0, got count={count}, trials={trials}")
    if trials is not None and count > trials:
        raise ValueError(f"count {count} exceeds trials {trials}")


ALERT_COLUMNS = ("day", "signal", "count", "baseline_rate", "p_value")


def detect_surges(
    daily: pd.DataFrame,
    key_cols: Sequence[str],
    count_col: str,
    trials_col: str | None = None,
    rule: SurgeRule | None = None,
    day_col: str = "day",
    signal: str | None = None,
) -> pd.DataFrame:
    """Apply the surge rule to a daily table.

    Rows with the same key and day are summed first; missing days count as zero.
    A missing key part (NaN) becomes None and is kept as a key of its own.
    Each key starts its warm-up at its first day in the table.

    Args:
        daily: One or more rows per day and key.
        key_cols: Columns forming the key (for example ``["region", "solution"]``).
        count_col: Column with the counts.
        trials_col: Column with the trials for a proportion signal, or None.
        rule: The surge rule (default :class:`SurgeRule`).
        day_col: Column with the day index.
        signal: Name put in the ``signal`` column (default as in
            :class:`SurgeDetector`).

    Returns:
        The alerts table: ``day``, the key columns, ``signal``, ``count``,
        ``baseline_rate``, ``p_value``; one row per alert, ordered by day.
    """
    key_cols = list(key_cols)
    columns = [day_col, *key_cols, *ALERT_COLUMNS[1:]]
    value_cols = [count_col] + ([trials_col] if trials_col else [])
    grouped = daily.groupby([day_col, *key_cols], sort=True, dropna=False)
    totals = grouped[value_cols].sum()
    detector = SurgeDetector(rule, signal)
    rows = []
    for index, values in zip(totals.index, totals.to_numpy(), strict=True):
        day = int(index[0])
        key = tuple(None if pd.isna(part) else part for part in index[1:])
        trials = int(values[1]) if trials_col else None
        alert = detector.observe(day, key, int(values[0]), trials)
        if alert is not None:
            rows.append([alert.day, *alert.key, alert.signal, alert.count,
                         alert.baseline_rate, alert.p_value])
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class DetectionReport:
    """Measured behaviour of a surge rule on synthetic series.

    Attributes:
        false_alarm_rate: Alerts per tested key-day before the surge day (all
            days for flat series), counting only warmed-up key-days.
        tested_key_days: The key-days that rate is out of.
        delays: Per key, days from the surge day to the first alert on or after
            it; None where the surge was never detected (empty without a surge).
    """

    false_alarm_rate: float
    tested_key_days: int
    delays: tuple[int | None, ...]

    @property
    def detected_share(self) -> float:
        """Share of keys whose surge was detected (NaN without a surge)."""
        if not self.delays:
            return float("nan")
        return sum(d is not None for d in self.delays) / len(self.delays)

    @property
    def mean_delay(self) -> float:
        """Mean delay over detected keys (NaN when none)."""
        found = [d for d in self.delays if d is not None]
        return float(np.mean(found)) if found else float("nan")


def planted_counts(
    rng: np.random.Generator,
    keys: int,
    days: int,
    rate: float,
    surge_day: int | None = None,
    factor: float = 3.0,
) -> np.ndarray:
    """Poisson daily counts, optionally with a step surge from a known day.

    Args:
        rng: Random generator.
        keys: Number of independent keys (rows).
        days: Number of days (columns).
        rate: Baseline daily rate.
        surge_day: First day at ``factor`` times the rate; None for flat series.
        factor: Surge multiplier.

    Returns:
        Integer array of shape ``(keys, days)``.
    """
    rates = np.full(days, float(rate))
    if surge_day is not None:
        rates[surge_day:] *= factor
    return rng.poisson(rates, size=(keys, days))


def measure_detection(
    counts: np.ndarray,
    rule: SurgeRule | None = None,
    surge_day: int | None = None,
    trials: np.ndarray | None = None,
) -> DetectionReport:
    """Run the live detector over series and measure false alarms and delay.

    Args:
        counts: Daily counts, shape ``(keys, days)``; each row is one key.
        rule: The surge rule (default :class:`SurgeRule`).
        surge_day: Day the planted surge starts, or None for flat series.
        trials: Daily trials of the same shape for a proportion signal.

    Returns:
        The :class:`DetectionReport`.
    """
    rule = rule or SurgeRule()
    counts = np.asarray(counts)
    end = counts.shape[1] if surge_day is None else surge_day
    alarms, tested, delays = 0, 0, []
    for k in range(counts.shape[0]):
        alert_days = _alert_days(counts[k], None if trials is None else trials[k], rule)
        tested += max(0, end - rule.window)
        alarms += sum(d < end for d in alert_days)
        if surge_day is not None:
            later = [d - surge_day for d in alert_days if d >= surge_day]
            delays.append(later[0] if later else None)
    rate = alarms / tested if tested else float("nan")
    return DetectionReport(rate, tested, tuple(delays))


def _alert_days(
    counts: np.ndarray, trials: np.ndarray | None, rule: SurgeRule
) -> list[int]:
    """Days on which one key's series alerts."""
    detector = SurgeDetector(rule)
    found = []
    for day, count in enumerate(counts):
        n = None if trials is None else int(trials[day])
        if detector.observe(day, ("k",), int(count), n) is not None:
            found.append(day)
    return found
