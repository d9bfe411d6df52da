"""Row-level security on PostgreSQL, the second wall between clinics: every table with a clinic_id has it
forced; the application works as a role that owns no table; a query that forgets the clinic still sees only
the caller's clinic, and a query with no clinic set sees nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text

from dryneedling.db import rls
from dryneedling.db import tables as t


@pytest.fixture
def postgres_only(backend):
    if backend != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature (SQLite relies on the clinic-scoped queries)")


CLINIC_TABLES = sorted(name for name, table in t.metadata.tables.items() if "clinic_id" in table.c)


@pytest.mark.usefixtures("postgres_only")
@pytest.mark.parametrize("table", CLINIC_TABLES)
def test_every_clinic_table_has_row_security_forced_with_the_clinic_policy(store, table):
    with store.engine.connect() as connection:
        enabled, forced, owner = connection.execute(
            text(
                "SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) FROM pg_class "
                "WHERE oid = to_regclass(:table)"
            ),
            {"table": table},
        ).one()
        policies = connection.execute(
            text("SELECT qual FROM pg_policies WHERE tablename = :table"), {"table": table}
        ).scalars()
        policies = list(policies)
    assert enabled and forced, (
        f"{table} has a clinic_id but no forced row security: run rls.enable_row_security({table!r}) "
        "in the migration that creates it"
    )
    assert len(policies) == 1 and "app.clinic_id" in policies[0]
    assert owner != store.app_role  # the application's role owns no table


@pytest.mark.usefixtures("postgres_only")
def test_the_app_role_sees_no_row_without_a_clinic_and_none_of_another_clinic(store, world, chart):
    chart.patient()
    chart.visit()
    with store.engine.connect() as connection:
        everything = connection.execute(
            select(func.count())
            .select_from(t.patients)
            .where(t.patients.c.clinic_id == uuid.UUID(world.clinic))
        ).scalar_one()
        assert everything >= 2  # the owner (a superuser here) sees them
        connection.execute(text(f'SET ROLE "{store.app_role}"'))
        for table in (t.patients, t.visits, t.episodes, t.audit_log, t.users):
            assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 0, table.name
        connection.execute(text(f"SET app.clinic_id = '{world.other_clinic}'"))
        for table in (t.patients, t.visits, t.episodes, t.consents, t.audit_log):
            rows = connection.execute(
                select(func.count()).select_from(table).where(table.c.clinic_id == uuid.UUID(world.clinic))
            ).scalar_one()
            assert rows == 0, table.name
        connection.execute(text("RESET ROLE"))
        connection.rollback()


@pytest.mark.usefixtures("postgres_only")
def test_an_unscoped_query_through_the_store_sees_only_its_own_clinic(store, world, chart):
    chart.patient()
    with store.clinic(uuid.UUID(world.other_clinic), write=False) as records:
        # deliberately without scoped(): the policy still confines it
        clinics = set(records.connection.execute(select(t.patients.c.clinic_id)).scalars())
        audit_clinics = set(records.connection.execute(select(t.audit_log.c.clinic_id)).scalars())
        role = records.connection.execute(text("SELECT current_user")).scalar_one()
    assert uuid.UUID(world.clinic) not in clinics and clinics <= {uuid.UUID(world.other_clinic)}
    assert audit_clinics <= {uuid.UUID(world.other_clinic)}
    assert role == store.app_role
    with store.clinic(uuid.UUID(world.clinic), write=False) as records:
        assert set(records.connection.execute(select(t.patients.c.clinic_id)).scalars()) == {
            uuid.UUID(world.clinic)
        }


@pytest.mark.usefixtures("postgres_only")
def test_the_policy_refuses_a_write_into_another_clinic(store, world, chart):
    from sqlalchemy.exc import DBAPIError

    patient = uuid.UUID(chart.patient())
    with (
        pytest.raises(DBAPIError, match="row-level security"),
        store.clinic(uuid.UUID(world.other_clinic)) as records,
    ):
        records.connection.execute(
            t.episodes.insert().values(
                clinic_id=uuid.UUID(world.clinic),
                id=uuid.uuid4(),
                patient_id=patient,
                status="open",
                opened_at=func.now(),
                created_by=uuid.UUID(world.outsider.user_id),
            )
        )


@pytest.mark.usefixtures("postgres_only")
def test_account_look_ups_reach_users_and_tokens_but_no_patient(store, world, chart):
    chart.patient()
    with store.accounts(write=False) as accounts:
        connection = accounts.connection
        assert connection.execute(select(func.count()).select_from(t.users)).scalar_one() >= 6
        assert connection.execute(select(func.count()).select_from(t.patients)).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(t.audit_log)).scalar_one() == 0


def test_the_app_role_setting_is_checked():
    assert rls.app_role({}) == "dryneedling_app"
    assert rls.app_role({rls.APP_ROLE_ENV: "clinic_app"}) == "clinic_app"
    with pytest.raises(ValueError, match=rls.APP_ROLE_ENV):
        rls.app_role({rls.APP_ROLE_ENV: 'x"; DROP TABLE patients; --'})


@pytest.mark.usefixtures("postgres_only")
def test_the_server_runs_as_a_login_that_owns_nothing_and_works_under_the_policies(
    store, database_url, world, chart
):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from dryneedling.db import open_store
    from dryneedling.services import accounts, audit, records

    chart.patient()  # a patient of the world's clinic, which this login must never see
    login = f"dn_login_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{login}" LOGIN'))
        connection.execute(text(f'GRANT "{store.app_role}" TO "{login}"'))
    served = open_store(
        make_url(database_url).set(username=login), migrate=True
    )  # at head: reads the revision
    try:
        clinic = accounts.add_clinic(served, "Login Physio")
        owner = accounts.add_user(served, clinic.id, f"{login}@example.org", "owner", None)
        patient = records.create_patient(
            served, owner, records.PatientIn(name="Lee Login", birth_date="1990-01-01", sex="other")
        )
        assert records.get_patient(served, owner, patient.id).patient.id == patient.id
        assert [p.id for p in records.search_patients(served, owner, "")] == [patient.id]
        assert audit.verify_clinic(served, clinic.id).holds
        with served.engine.connect() as connection:  # no role switch, no clinic set: the policies still hold
            assert connection.execute(select(func.count()).select_from(t.patients)).scalar_one() == 0
            with pytest.raises(Exception, match="permission denied"):
                connection.execute(text("DELETE FROM audit_log"))
    finally:
        served.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP ROLE "{login}"'))
        admin.dispose()
