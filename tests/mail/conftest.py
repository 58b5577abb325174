"""Mail tests reuse the organisation and tickets of the tickets tests."""

from tests.tickets import conftest as ticket_fixtures

erika = ticket_fixtures.erika
malte = ticket_fixtures.malte
bob_agent = ticket_fixtures.bob_agent
carol_agent = ticket_fixtures.carol_agent
tina_agent = ticket_fixtures.tina_agent
trent = ticket_fixtures.trent
team = ticket_fixtures.team
ticket = ticket_fixtures.ticket
tech_ticket = ticket_fixtures.tech_ticket
malte_ticket = ticket_fixtures.malte_ticket
