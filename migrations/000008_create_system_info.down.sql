DROP TABLE IF EXISTS system_info;
