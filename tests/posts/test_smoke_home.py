def test_it_shows_the_reference_letter_on_the_home_page(client, demo_site):
    response = client.get("/")
    assert response.status_code == 200
    assert "Letter to the Foreign Secretary" in response.content.decode()
