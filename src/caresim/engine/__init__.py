"""One replication of one world: the connected network of services on a simpy environment."""
