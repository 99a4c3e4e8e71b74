"""What the register refuses reaches the victim in their own language, as helpful as in English."""

from __future__ import annotations

from handlers.conversation import states
from tests.handlers.conftest import seed

WRONG_CHECK_DIGIT = "490154203237519"


async def test_a_bad_imei_is_explained_in_spanish(application, victim):
    await seed(application, victim, states.IMEI, language="es")
    reply, _question = await victim.send(WRONG_CHECK_DIGIT)
    assert reply.text.startswith("Las cifras no cuadran (la cifra de control debería ser 8).")
    assert await victim.step() == states.IMEI
    reply, _question = await victim.send("IMEI 4901")
    assert reply.text == "Un IMEI solo tiene cifras: quite «I» y escriba solo el número."


async def test_a_bad_imei_is_explained_in_english(application, victim):
    await seed(application, victim, states.IMEI)
    reply, _question = await victim.send(WRONG_CHECK_DIGIT)
    assert "(check digit should be 8)" in reply.text
    reply, _question = await victim.send("--")
    assert reply.text == "No digits found. An IMEI has 15 digits; dial *#06# to see it."


async def test_a_bad_phone_number_is_explained_in_spanish(application, victim):
    await seed(application, victim, states.CONTACT_PHONE, language="es")
    reply, _question = await victim.send("06 12 34 56")
    assert reply.text.startswith(
        "Ese número no parece completo o válido para Reino Unido (+44). Si no es un número de "
        "Reino Unido, empiece con + y el prefijo del país, por ejemplo +33 6 12 34 56 78."
    )


async def test_a_bad_reference_after_status_is_explained_in_the_chats_language(
    application, make_user
):
    user = make_user(user_id=4242)
    application.user_data[4242]["language"] = "es"
    [reply] = await user.send("/status SPR-0KQ4-M9 K7QM-3XDP")
    assert reply.text.startswith(
        "Una referencia nunca lleva «0»: no contiene 0, 1, I, L ni O. Revísela."
    )
