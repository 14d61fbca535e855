ALTER TABLE items ADD CONSTRAINT items_name_unique UNIQUE (name);
