def test_home_page_lists_communities(client, world):
    response = client.get("/")
    assert response.status_code == 200
    assert "桃源社区" in response.get_data(as_text=True)
