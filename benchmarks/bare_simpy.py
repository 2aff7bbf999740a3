"""A bare SimPy M/M/c queue: the reference cost of one simulated customer.

Customers arrive as a Poisson process, queue first come first served for one
of ``c`` identical servers (a ``simpy.Resource``) and hold it for an
exponential service time. Nothing else is modelled or logged: only each
customer's wait is kept, so the time per customer is SimPy's own overhead plus
two random draws.
"""

from __future__ import annotations

import random

import simpy


def simulate(
    servers: int,
    arrival_rate: float,
    service_rate: float,
    customers: int,
    seed: int = 1,
) -> list[float]:
    """Waits in queue of the first ``customers`` customers, in arrival order.

    Args:
        servers: Number of servers ``c``.
        arrival_rate: Poisson arrival rate (per hour).
        service_rate: Service rate of one server (per hour).
        customers: Customers generated.
        seed: Seed of the model's ``random.Random``.

    Returns:
        The waits (hours) of the customers that started service.
    """
    rng = random.Random(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    waits: list[float] = []

    def customer(service: float):
        arrived = env.now
        with desk.request() as request:
            yield request
            waits.append(env.now - arrived)
            yield env.timeout(service)

    def arrivals():
        for _ in range(customers):
            yield env.timeout(rng.expovariate(arrival_rate))
            env.process(customer(rng.expovariate(service_rate)))

    env.process(arrivals())
    env.run()
    return waits
