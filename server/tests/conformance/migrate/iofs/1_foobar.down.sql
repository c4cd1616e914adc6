DROP TABLE foobar;
