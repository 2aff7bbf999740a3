"""The scenario schema: every setting of a simulated situation, with defaults.

A scenario is a TOML file. It is parsed as data (TOML cannot run code) and
validated once, here, by pydantic models; cross-references (a pool naming an
unknown region, say) are checked afterwards. Every problem found is gathered
into one ``ScenarioError`` whose message names the file, the field and the fix.

Every behavioural assumption of the model is a field below with a default and
a one-line reason in its description; ``docs/scenario_reference.md`` is
generated from these models.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
PosFloat = Annotated[float, Field(gt=0.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Proficiency = Annotated[int, Field(ge=1, le=5)]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; ``problems`` lists each fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s) in the scenario:"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class Strict(BaseModel):
    # Numbers must be finite unless a field says otherwise (max_wait_hours = inf).
    model_config = ConfigDict(extra="forbid", frozen=False, allow_inf_nan=False)


class Meta(Strict):
    name: str = Field(
        "scenario",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="Short name, used as the output folder: letters, digits, _ . -",
    )
    description: str = Field("", description="What situation this scenario keeps.")
    start_date: dt.date = Field(
        dt.date(2027, 1, 4),
        ge=dt.date(1900, 1, 1),
        le=dt.date(2200, 12, 31),
        description="Date of simulated day 0 (a Monday is usual).",
    )
    horizon_days: int = Field(
        90, ge=1, le=3660, description="Days simulated (calendar days)."
    )
    warmup_days: int = Field(
        0, ge=0, description="Days at the start excluded from outcomes (fills queues)."
    )
    seed: int = Field(
        20270104, ge=0, description="Seed of the model's random generator."
    )
    currency: str = Field("USD", description="Currency label of all money.")


class Calendar(Strict):
    timezone: str = Field(
        "UTC", description="Time zone the working hours are local to."
    )
    working_hours: list[tuple[float, float]] = Field(
        [(9.0, 12.0), (13.0, 18.0)],
        min_length=1,
        description="Working periods of a day as [from, to] hours; [[0, 24]] is 24h.",
    )
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        [0, 1, 2, 3, 4],
        min_length=1,
        description="Working weekdays, Monday = 0 ... Sunday = 6.",
    )
    holidays: list[dt.date] = Field([], description="Dates nobody works.")


class Grade(Strict):
    name: str = Field(description="Grade name, e.g. junior, senior, principal.")
    hourly_rate: NonNeg = Field(
        description="Price per working hour charged to the rep."
    )
    resource_type: str = Field(
        "engineer", description="Resource type of the rate card."
    )


class EngineerPool(Strict):
    region: str = Field(description="Home region of the pool.")
    grade: str = Field(description="Grade of every engineer in the pool.")
    count: int = Field(ge=0, description="Number of engineers.")
    proficiency: dict[str, Proficiency] = Field(
        description="Proficiency 1-5 per solution the engineers cover."
    )


class Engineer(Strict):
    name: str = Field(description="Unique engineer name.")
    region: str = Field(description="Home region.")
    grade: str = Field(description="Grade (sets the hourly rate).")
    proficiency: dict[str, Proficiency] = Field(
        description="Proficiency 1-5 per solution covered."
    )


class Absence(Strict):
    region: str = Field(description="Home region of the absent engineers.")
    grade: str = Field("", description="Their grade; empty takes any grade.")
    count: int = Field(ge=1, description="Engineers absent (the first by name).")
    start_day: int = Field(ge=0, description="First day of the absence.")
    days: int = Field(ge=1, description="Calendar days the absence lasts.")


class Engineers(Strict):
    pools: list[EngineerPool] = Field([], description="Engineers described as pools.")
    individuals: list[Engineer] = Field([], description="Engineers named one by one.")
    absences: list[Absence] = Field(
        [],
        description="Planted absences (training, illness): the engineers' "
        "schedules are blocked for those days, which plants a delay surge; none "
        "by default (nobody is away).",
    )


class RepPool(Strict):
    region: str = Field(description="Region the reps sell in.")
    count: int = Field(ge=0, description="Number of reps.")
    customer_type: str = Field(description="Customer type the reps sell to.")
    quarterly_quota: NonNeg = Field(description="Sales quota per quarter (currency).")
    attainment: NonNeg = Field(1.0, description="Quota attainment (1.0 = 100%).")


class Rep(Strict):
    name: str = Field(description="Unique rep name.")
    region: str = Field(description="Region the rep sells in.")
    customer_type: str = Field(description="Customer type (sets the budget share).")
    quarterly_quota: NonNeg = Field(description="Sales quota per quarter (currency).")
    attainment: NonNeg = Field(1.0, description="Quota attainment (1.0 = 100%).")


class Reps(Strict):
    pools: list[RepPool] = Field([], description="Reps described as pools.")
    individuals: list[Rep] = Field([], description="Reps named one by one.")


class Budget(Strict):
    unlimited: bool = Field(
        False, description="No budget limit at all (queue studies)."
    )
    share_of_quota: dict[str, NonNeg] = Field(
        {"key_account": 0.05, "commercial": 0.03},
        description="Budget per quarter as a share of quota, by customer type.",
    )
    attainment_weight: NonNeg = Field(
        0.5, description="How strongly attainment scales the budget (0 = not at all)."
    )
    min_factor: NonNeg = Field(0.5, description="Floor of the attainment factor.")
    max_factor: NonNeg = Field(1.5, description="Cap of the attainment factor.")
    overdraft_share: NonNeg = Field(
        0.0,
        description="Share of a quarter's budget a rep may overdraw with approval; "
        "0 is a hard block (the system's rule: reps pay within their budget).",
    )
    approval_hours: NonNeg = Field(
        8.0,
        description="Working hours an overdraft approval takes; the booked work "
        "cannot start sooner (a manager signs off within a working day).",
    )
    rollover: Literal["reset", "rollover"] = Field(
        "reset",
        description="reset: unspent budget lapses at the quarter's end (use it or "
        "lose it); rollover: what is left moves into the rep's next quarter.",
    )


class PriceTier(Strict):
    from_hours: NonNeg = Field(
        description="Hours the rep has booked this quarter where the tier begins."
    )
    factor: NonNeg = Field(description="Multiplier on the list rate in this tier.")


class Pricing(Strict):
    scheme: Literal["flat", "tiered", "surge"] = Field(
        "flat",
        description="flat: list rate; tiered: volume bands of the rep's quarterly "
        "hours; surge: rate rises with the region's utilisation (flat is the "
        "system's rate card as published).",
    )
    rate_card: str = Field(
        "",
        description="Name of the rate card in rate_cards; empty uses the grades' "
        "own hourly rates (one card is the usual start).",
    )
    rate_cards: dict[str, dict[str, NonNeg]] = Field(
        {},
        description="Named rate cards: grade -> hourly rate; a grade a card omits "
        "keeps its [[grades]] rate (so cards can change one grade).",
    )
    resource_factor: dict[str, NonNeg] = Field(
        {},
        description="Multiplier on rates by the grade's resource type; types not "
        "listed pay 1 (one rate card serves every resource type).",
    )
    tiers: list[PriceTier] = Field(
        [
            PriceTier(from_hours=0.0, factor=1.0),
            PriceTier(from_hours=40.0, factor=0.9),
            PriceTier(from_hours=120.0, factor=0.8),
        ],
        description="tiered: bands of the rep's hours booked this quarter; each "
        "hour pays its band's factor (volume discounts: -10% past a week, -20% "
        "past three).",
    )
    surge_threshold: Prob = Field(
        0.7,
        description="surge: region utilisation above which rates rise (spare "
        "capacity sells at list price).",
    )
    surge_slope: NonNeg = Field(
        1.0,
        description="surge: rise of the multiplier per unit of utilisation above "
        "the threshold (+30% at full load with the defaults).",
    )
    surge_cap: Annotated[float, Field(ge=1.0)] = Field(
        1.5, description="surge: highest multiplier, so a spike cannot price reps out."
    )
    surge_window_hours: PosFloat = Field(
        40.0,
        description="surge: working hours ahead whose booked share is the region's "
        "utilisation (one working week, refreshed daily).",
    )


#: Quantiles of an empirical distribution in a stream: probabilities k / 40 for
#: k = 0..40 (minimum, every 2.5th percentile, maximum).
QUANTILE_COUNT = 41


class Stream(Strict):
    region: str = Field(description="Region whose reps own the opportunities.")
    solution: str = Field(description="Solution (product series) sold.")
    arrivals_per_month: list[NonNeg] = Field(
        min_length=12,
        max_length=12,
        description="Mean new opportunities per calendar month, January first.",
    )
    win_rate: Prob = Field(description="Base win rate with ordinary presales service.")
    deal_value_mu: float = Field(
        ge=-20, le=30, description="Lognormal mu of deal value (currency)."
    )
    deal_value_sigma: NonNeg = Field(le=5, description="Lognormal sigma of deal value.")
    cycle_days_mu: float = Field(
        ge=-10, le=10, description="Lognormal mu of sales-cycle days."
    )
    cycle_days_sigma: NonNeg = Field(
        le=5, description="Lognormal sigma of sales-cycle days."
    )
    deal_value_quantiles: list[PosFloat] = Field(
        [],
        description="Empirical deal value: the values at probabilities 0, 1/40, "
        "..., 1 (41 numbers, non-decreasing); a draw interpolates linearly between "
        "them; empty uses the lognormal (no data, a hand-written stream).",
    )
    cycle_days_quantiles: list[PosFloat] = Field(
        [],
        description="Empirical sales-cycle days at probabilities 0, 1/40, ..., 1 "
        "(41 numbers, non-decreasing), drawn like deal_value_quantiles; empty "
        "uses the lognormal.",
    )
    opportunities: int = Field(0, ge=0, description="Rows behind a calibrated stream.")


class Activity(Strict):
    name: str = Field(description="Activity, e.g. demo, site visit, proof of concept.")
    probability: Prob = Field(description="Chance the stage raises this ticket.")
    hours: PosFloat = Field(description="Working hours for a deal of reference value.")
    min_proficiency: Proficiency = Field(3, description="Least proficiency accepted.")


class Stage(Strict):
    name: str = Field(description="Sales stage name, in the order stages run.")
    share_of_cycle: Prob = Field(description="Share of the sales cycle spent here.")
    activities: list[Activity] = []


def _default_stages() -> list[Stage]:
    def act(name: str, p: float, h: float, m: int) -> Activity:
        return Activity(name=name, probability=p, hours=h, min_proficiency=m)

    return [
        Stage(
            name="qualification",
            share_of_cycle=0.15,
            activities=[act("discovery call", 0.5, 2, 2)],
        ),
        Stage(
            name="value_presentation",
            share_of_cycle=0.40,
            activities=[
                act("demo", 0.8, 4, 3),
                act("site visit", 0.3, 8, 3),
                act("proof of concept", 0.25, 24, 4),
            ],
        ),
        Stage(
            name="bid_preparation",
            share_of_cycle=0.30,
            activities=[act("bid preparation", 0.6, 12, 3)],
        ),
        Stage(
            name="bidding",
            share_of_cycle=0.15,
            activities=[act("bid defence", 0.5, 4, 4)],
        ),
    ]


class QueueStream(Strict):
    region: str = Field(description="Region the tickets come from.")
    solution: str = Field(description="Solution the tickets need.")
    rate_per_hour: PosFloat = Field(description="Poisson ticket arrivals per hour.")
    hours_mean: PosFloat = Field(description="Mean exponential work in working hours.")
    min_proficiency: Proficiency = Field(1, description="Least proficiency accepted.")


class DemandSurge(Strict):
    region: str = Field(description="Region of the stream that surges.")
    solution: str = Field(description="Solution of the stream that surges.")
    start_day: int = Field(ge=0, description="First day of the surge.")
    days: int = Field(ge=1, description="Calendar days the surge lasts.")
    factor: NonNeg = Field(3.0, description="Multiplier on the arrival rate.")


class Demand(Strict):
    mode: Literal["calibrated", "explicit", "queue"] = Field(
        "explicit",
        description="calibrated/explicit: opportunity streams; queue: bare tickets.",
    )
    source: str = Field("", description="Where calibrated figures came from.")
    start_month: int = Field(1, ge=1, le=12, description="Month the export began in.")
    scale: NonNeg = Field(1.0, description="Multiplier on every arrival rate.")
    streams: list[Stream] = []
    queue: list[QueueStream] = []
    stages: list[Stage] = Field(default_factory=_default_stages)
    reference_deal_value: PosFloat = Field(
        2000.0, description="Deal value at which activities take their stated hours."
    )
    hours_elasticity: NonNeg = Field(
        0.15, description="Hours grow as (deal value / reference) to this power."
    )
    lead_hours_min: NonNeg = Field(
        4.0, description="Least working hours between raising a ticket and its window."
    )
    lead_hours_max: NonNeg = Field(
        24.0, description="Most working hours between raising a ticket and its window."
    )
    random_stream: Literal["shared", "own"] = Field(
        "own",
        description="own: demand draws from a stream of its own (derived from the "
        "seed), so runs that differ only in dispatch, pricing or control see the "
        "very same opportunities and tickets (paired comparisons); shared: one "
        "stream for every draw.",
    )
    surges: list[DemandSurge] = Field(
        [],
        description="Planted demand surges: a stream's opportunity arrivals are "
        "multiplied for some days (a campaign, a tender wave); none by default.",
    )
    cancel_probability: Prob = Field(
        0.0,
        description="Chance the rep cancels a booked ticket before work starts "
        "(releases its commitment); 0: bookings stand (no data on cancellations).",
    )


class Coordinator(Strict):
    per_region: int = Field(
        1,
        ge=1,
        description="Coordinators per region; a request joins the shortest queue "
        "of its region (one desk per region is the usual old set-up).",
    )
    handling_hours: PosFloat = Field(
        0.25,
        description="Mean working hours a coordinator spends per request "
        "(exponential): a quarter hour of calls and emails limits throughput.",
    )
    known_home_share: Prob = Field(
        0.6,
        description="Share of home-region engineers a coordinator knows (people "
        "know their own region best, not everyone in it).",
    )
    known_other_share: Prob = Field(
        0.15,
        description="Share of other regions' engineers a coordinator knows (few "
        "ties across regions).",
    )
    grab_fallback: bool = Field(
        False,
        description="Whether the coordinator posts a grab order when nobody known "
        "is free (the process the system replaces has no grabbing).",
    )


class Batch(Strict):
    interval_hours: PosFloat = Field(
        1.0,
        description="Working hours between assignment rounds (short enough that "
        "requests raised 4+ hours ahead still start on time).",
    )
    candidates: int = Field(
        8,
        ge=1,
        description="Best-ranked engineers considered per request; bounds the "
        "assignment matrix (and the work per round).",
    )
    no_deal_value: NonNeg = Field(
        1000.0,
        description="Value of serving a ticket with no opportunity (queue demand), "
        "so that serving it beats leaving it (currency).",
    )


class RankWeights(Strict):
    fit: float = Field(
        1.0, description="weighted: score per proficiency point above need."
    )
    price: float = Field(
        1.0,
        description="weighted: score lost at the top hourly rate (scaled by rate "
        "over the dearest engineer's rate), so one fit point pays for it.",
    )
    wait: float = Field(
        0.25,
        description="weighted: score lost per working hour after the window "
        "opens (four hours late cost one fit point).",
    )
    load: float = Field(
        0.0,
        description="weighted: score lost per unit of own load over the next "
        "week (0: reps do not see it).",
    )


class Dispatch(Strict):
    policy: str = Field(
        "hybrid",
        description="Dispatch policy by name (direct, grab_first, hybrid, ...).",
    )
    ranking: Literal["best_fit", "cheapest", "earliest", "least_loaded", "weighted"] = (
        Field("best_fit", description="How a rep ranks engineers free for the window.")
    )
    region_scope: Literal["home", "all"] = Field(
        "home", description="Regions a rep searches before widening."
    )
    max_wait_hours: NonNeg | None = Field(
        24.0,
        allow_inf_nan=True,
        description="Latest a rep accepts a late slot, working hours; inf = any.",
    )
    hybrid_after_hours: NonNeg = Field(
        0.0,
        description="hybrid: working hours the rep keeps retrying direct booking "
        "before posting a grab order; 0 posts right after the first failure.",
    )
    retry_hours: PosFloat = Field(
        1.0,
        description="hybrid: working hours between direct-booking retries while "
        "the rep waits to grab (a rep checks schedules about hourly).",
    )
    weights: RankWeights = RankWeights()
    coordinator: Coordinator = Coordinator()
    batch: Batch = Batch()


class GrabChoice(Strict):
    intercept: float = Field(-1.0, description="Base appetite for grab orders (logit).")
    incentive: float = Field(
        3.0, description="Logit weight per unit uplift (1.0 = +100%)."
    )
    fit: float = Field(
        0.4, description="Logit weight per proficiency point above need."
    )
    load: float = Field(2.0, description="Logit penalty per unit of own load (0..1).")
    distance: float = Field(
        1.0, description="Logit penalty for another region's order."
    )
    grade: float = Field(
        0.3, description="Logit penalty per grade step above the lowest."
    )
    heterogeneity: NonNeg = Field(
        0.5, description="Sd of each engineer's own appetite."
    )


class Grab(Strict):
    enabled: bool = Field(True, description="Whether reps may post open grab orders.")
    incentive: NonNeg = Field(
        0.5, le=1.0, description="Uplift credited and paid (0.5 = +50%)."
    )
    widen_to: Literal["home", "all"] = Field(
        "all", description="Regions invited to a grab order."
    )
    deadline_hours: PosFloat = Field(
        16.0, description="Working hours an order stays open."
    )
    response_mean_hours: PosFloat = Field(
        2.0, description="Mean working hours before an invited engineer decides."
    )
    clarify_probability: Prob = Field(0.2, description="Chance an engineer asks first.")
    clarify_hours: NonNeg = Field(
        1.0, description="Working hours a clarify round costs."
    )
    confirm_probability: Prob = Field(
        0.95, description="Chance the rep confirms a grab."
    )
    confirm_hours: NonNeg = Field(
        0.5, description="Working hours the rep takes to confirm."
    )
    max_invites: int = Field(40, ge=1, description="Most engineers invited per order.")
    push_waves: int = Field(
        3,
        ge=1,
        description="progressive_push: waves of invitations; wave k adds the next "
        "region and the next-ranked engineers (three: home, near, all).",
    )
    wave_hours: PosFloat = Field(
        2.0,
        description="progressive_push: working hours between waves (about one "
        "mean response time).",
    )
    confirm_timeout_hours: NonNeg | None = Field(
        None,
        description="Longest a lock waits for the rep; the rep then replies after "
        "an exponential time (mean confirm_hours) and a lock not confirmed in "
        "time reopens the order; none: the rep replies after confirm_hours.",
    )
    choice: GrabChoice = GrabChoice()


class QualityDrop(Strict):
    region: str = Field(description="Region whose tickets are served worse.")
    solution: str = Field(description="Solution whose tickets are served worse.")
    start_day: int = Field(ge=0, description="First day work starts served worse.")
    days: int = Field(ge=1, description="Calendar days the drop lasts.")
    points: NonNeg = Field(1.0, description="Mean rating points lost per job.")


class Service(Strict):
    rating_base: float = Field(
        3.8, description="Mean rating of an on-time, fitting job."
    )
    rating_fit: float = Field(
        0.5, description="Rating gained per proficiency point above need."
    )
    rating_slight: float = Field(0.7, description="Rating lost to a slight delay.")
    rating_severe: float = Field(1.6, description="Rating lost to a severe delay.")
    rating_noise: NonNeg = Field(0.6, description="Sd of the rating's noise.")
    win_reference_rating: float = Field(
        4.0, description="Mean rating at which the base win rate holds."
    )
    win_rating: float = Field(0.3, description="Logit of winning per rating point.")
    win_slight: float = Field(0.1, description="Logit lost per slight delay.")
    win_severe: float = Field(0.35, description="Logit lost per severe delay.")
    win_unserved: float = Field(0.5, description="Logit lost per unserved ticket.")
    duration_fit: NonNeg = Field(
        0.0,
        description="Share by which work shrinks per proficiency point above need "
        "(factor floored at 0.5); 0 keeps the requested hours (no data yet).",
    )
    quality_drops: list[QualityDrop] = Field(
        [],
        description="Planted quality drops: work started in a region x solution "
        "on those days is rated ``points`` lower on average (a new release the "
        "engineers do not know yet), which plants a bad-rating surge; none by "
        "default.",
    )


class Control(Strict):
    slight_after_hours: NonNeg = Field(
        1.0, description="A start this many working hours late is slightly late."
    )
    severe_after_hours: NonNeg = Field(
        8.0, description="A start this many working hours late is severely late."
    )
    window_days: int = Field(14, ge=1, description="Trailing baseline of surge tests.")
    alpha: float = Field(
        0.01, gt=0.0, lt=1.0, description="One-sided significance of a surge alert."
    )
    min_count: int = Field(3, ge=1, description="Fewest events today that can alert.")
    playbooks: list[str] = Field(
        ["delay_grab", "volume_widen", "rating_upgrade"],
        description="Playbooks in force (delay_grab, volume_widen, rating_upgrade).",
    )
    playbook_days: int = Field(5, ge=1, description="Days a playbook stays in force.")
    slight_status_share: Prob = Field(
        0.2, description="Late share of a day's starts that marks a cell slight."
    )
    severe_status_share: Prob = Field(
        0.1, description="Severe share of a day's starts that marks a cell severe."
    )
    playbook_incentive: NonNeg = Field(
        0.3, description="Extra uplift the delay playbook adds to grab orders."
    )


class Scenario(Strict):
    scenario: Meta = Meta()
    regions: list[str] = Field(min_length=1, description="Sales regions.")
    solutions: list[str] = Field(
        min_length=1, description="Solutions (product series)."
    )
    calendar: Calendar = Calendar()
    grades: list[Grade] = Field(
        min_length=1, description="Grades and their hourly rates."
    )
    engineers: Engineers = Engineers()
    reps: Reps = Reps()
    budget: Budget = Budget()
    pricing: Pricing = Pricing()
    demand: Demand = Demand()
    dispatch: Dispatch = Dispatch()
    grab: Grab = Grab()
    service: Service = Service()
    control: Control = Control()


def load_scenario(
    path: str | Path, overrides: dict[str, Any] | None = None
) -> Scenario:
    """Read, parse and validate a scenario file.

    Raises:
        ScenarioError: listing every problem, each with its field and fix.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(path), ["file not found; check the path"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), [f"not UTF-8 text ({exc.reason})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), [f"not valid TOML: {exc}"]) from None
    return scenario_from_dict(raw, source=str(path))


def scenario_from_dict(raw: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a parsed scenario (a plain nested dict)."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        problems += _cross_check_raw(raw, problems)
        raise ScenarioError(source, problems) from None
    from models.scenario_checks import cross_check

    problems = cross_check(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario


def _cross_check_raw(raw: Any, reported: list[str]) -> list[str]:
    """Cross-reference problems of a scenario that the schema refused.

    The checks read the raw values through ``_Lenient`` (with the schema's
    defaults), so one run lists both kinds of problem. Problems about a field
    the schema already reported are left out; values too malformed to
    cross-check at all leave the cross-check out (the schema said why).
    """
    from models.scenario_checks import cross_check

    if not isinstance(raw, dict):
        return []
    try:
        found = cross_check(_Lenient(Scenario, raw))
    except Exception:  # malformed values; the schema problems already cover them
        return []
    fields = [p.split(": ", 1)[0] for p in reported]

    def reported_already(problem: str) -> bool:
        where = problem.split(": ", 1)[0]
        return any(where == f or where.startswith((f + ".", f + "[")) for f in fields)

    return [p for p in found if not reported_already(p)]


class _Lenient:
    """Unvalidated scenario data read with the schema's field names and defaults."""

    def __init__(self, model: type[BaseModel], data: dict[str, Any]) -> None:
        self._model, self._data = model, data

    def __getattr__(self, name: str) -> Any:
        field = self._model.model_fields.get(name)
        if field is None:
            raise AttributeError(name)
        if name not in self._data:
            if field.is_required():
                return None
            return field.get_default(call_default_factory=True)
        return _lenient_value(field.annotation, self._data[name])


def _lenient_value(annotation: Any, value: Any) -> Any:
    from typing import get_args, get_origin

    def is_model(kind: Any) -> bool:
        return isinstance(kind, type) and issubclass(kind, BaseModel)

    if is_model(annotation) and isinstance(value, dict):
        return _Lenient(annotation, value)
    args = get_args(annotation)
    if get_origin(annotation) is list and args and is_model(args[0]):
        if isinstance(value, list):
            return [_Lenient(args[0], v) if isinstance(v, dict) else v for v in value]
    return value


def _describe(error: dict[str, Any]) -> str:
    where = _dotted(error["loc"])
    got = error.get("input")
    kind = error["type"]
    if kind == "missing":
        return f"{where}: required field is missing; add it"
    if kind == "extra_forbidden":
        return f"{where}: unknown field; remove it or check its spelling"
    shown = repr(got)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{where}: {error['msg'].lower()} (got {shown}); fix the value"


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"
