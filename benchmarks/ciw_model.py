"""The same M/M/c queue in Ciw, a queueing-network simulation library.

One node with ``c`` servers, exponential arrivals and services, first come
first served; the run stops once ``customers`` customers have finished.
"""

from __future__ import annotations

import ciw


def simulate(
    servers: int,
    arrival_rate: float,
    service_rate: float,
    customers: int,
    seed: int = 1,
) -> list[float]:
    """Waits in queue of the customers served, in order of arrival.

    Args:
        servers: Number of servers ``c``.
        arrival_rate: Poisson arrival rate (per hour).
        service_rate: Service rate of one server (per hour).
        customers: Customers to serve before the run stops.
        seed: Ciw's seed.

    Returns:
        The waits (hours) of the customers served.
    """
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrival_rate)],
        service_distributions=[ciw.dists.Exponential(rate=service_rate)],
        number_of_servers=[servers],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_customers(customers, method="Finish")
    records = sorted(simulation.get_all_records(), key=lambda r: r.arrival_date)
    return [r.waiting_time for r in records]
