from tests.support.factories import PASSWORD


async def test_employers_list_employees_with_ticket_counts(client, factory):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    first = await factory.ticket(alice)
    await factory.ticket(alice)
    await client.post(f"/api/tickets/{first['id']}/approve", headers=boss.headers)

    response = await client.get("/api/employees", headers=boss.headers)

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["items"]}
    assert set(rows) == {alice.id, bob.id}  # the employer is not an employee
    assert (rows[alice.id]["total_tickets"], rows[alice.id]["pending_tickets"]) == (2, 1)
    assert (rows[bob.id]["total_tickets"], rows[bob.id]["pending_tickets"]) == (0, 0)
    assert response.json()["total"] == 2


async def test_suspension_locks_the_employee_out_and_hides_their_tickets(client, factory):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    hidden = await factory.ticket(alice)
    kept = await factory.ticket(bob)

    response = await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    assert response.status_code == 200
    assert response.json()["suspended"] is True
    # Her token dies on the next request, and she cannot log in again.
    assert (await client.get("/api/tickets", headers=alice.headers)).status_code == 401
    login = await client.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert login.status_code == 403
    assert login.json()["detail"] == "This account is suspended; contact your employer."
    # A wrong password still says only "wrong": suspension is not revealed to strangers.
    wrong = await client.post(
        "/api/auth/login", json={"email": alice.email, "password": "nope-nope"}
    )
    assert wrong.status_code == 401
    # Her tickets vanish from every list and lookup, by id too.
    listing = (await client.get("/api/tickets", headers=boss.headers)).json()
    assert [t["id"] for t in listing["items"]] == [kept["id"]]
    assert listing["total"] == 1
    assert (
        await client.get(f"/api/tickets/{hidden['id']}", headers=boss.headers)
    ).status_code == 404
    decide = await client.post(f"/api/tickets/{hidden['id']}/approve", headers=boss.headers)
    assert decide.status_code == 404


async def test_reactivation_brings_the_tickets_back_but_not_old_tokens(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    response = await client.post(f"/api/employees/{alice.id}/reactivate", headers=boss.headers)

    assert response.status_code == 200
    assert response.json()["suspended"] is False
    seen = await client.get(f"/api/tickets/{ticket['id']}", headers=boss.headers)
    assert seen.json()["status"] == "pending"
    # A token minted before the suspension stays dead; a fresh login works.
    assert (await client.get("/api/users/me", headers=alice.headers)).status_code == 401
    login = await client.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})
    token = login.json()["access_token"]
    mine = await client.get("/api/tickets", headers={"Authorization": f"Bearer {token}"})
    assert [t["id"] for t in mine.json()["items"]] == [ticket["id"]]


async def test_suspending_twice_is_409_and_employers_cannot_be_suspended(client, factory):
    alice, boss, other_boss = (
        await factory.employee(),
        await factory.employer(),
        await factory.employer(),
    )
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    again = await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)
    employer = await client.post(f"/api/employees/{other_boss.id}/suspend", headers=boss.headers)
    active = await client.post(f"/api/employees/{other_boss.id}/reactivate", headers=boss.headers)

    assert again.status_code == 409
    assert again.json()["detail"] == f"Employee {alice.id} is already suspended."
    assert employer.status_code == active.status_code == 404
    assert (await client.get("/api/users/me", headers=other_boss.headers)).status_code == 200


async def test_employees_cannot_suspend_anyone(client, factory):
    alice, bob = await factory.employee(), await factory.employee()

    response = await client.post(f"/api/employees/{bob.id}/suspend", headers=alice.headers)

    assert response.status_code == 403
    assert (await client.get("/api/users/me", headers=bob.headers)).status_code == 200


async def test_the_employee_list_filters_by_state(client, factory):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    suspended = (await client.get("/api/employees?state=suspended", headers=boss.headers)).json()
    active = (await client.get("/api/employees?state=active", headers=boss.headers)).json()

    assert [row["id"] for row in suspended["items"]] == [alice.id]
    assert [row["id"] for row in active["items"]] == [bob.id]
