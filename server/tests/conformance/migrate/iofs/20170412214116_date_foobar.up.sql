CREATE TABLE date_foobar (id int);
