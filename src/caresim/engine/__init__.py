"""One replication of one world: the connected network of services on a simpy environment.

Where to look:
    model.py        Model(scenario, world, schemes, replication).run() → ReplicationRecord; wires the parts
    kernel.py       the clock, Kernel.after (callbacks on simpy's queue), who is where, the daily tick
    network.py      the services (bed pools, caseloads, package and assessment starts, appointments), their
                    hours and the discharge rhythm
    patient.py      Patient and the named columns of the draws each carries from arrival
    pathway.py      what every part of the journey shares (Pathway), and the routing-table helpers
    arrivals.py → front_door.py → diversions.py / ae.py → acute.py → discharge.py → community.py,
    care_homes.py   the journey, one part per module
    warm_start.py, record.py, counters.py, tally.py    start full, hand back the record, count by index
    demand.py, effects.py, calendar.py, services.py, streams.py    crises, schemes, time, queues, randomness
    discharge_rhythm.py    when a patient ready to leave hospital leaves (a rate by hour of the week)
"""
