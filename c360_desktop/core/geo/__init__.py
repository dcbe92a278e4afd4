"""Where customers are: places and nearness (places), parish geocoding (geocode), territory
figures (territory) and the offline map page (map_page); MapService is what panes call."""
