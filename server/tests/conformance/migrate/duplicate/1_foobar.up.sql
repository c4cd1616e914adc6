CREATE TABLE foobar (id int);
