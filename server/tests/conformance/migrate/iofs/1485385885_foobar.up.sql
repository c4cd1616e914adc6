CREATE TABLE unix_time (id int);
