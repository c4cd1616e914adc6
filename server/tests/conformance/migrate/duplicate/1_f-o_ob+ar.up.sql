CREATE TABLE foobar2 (id int);
