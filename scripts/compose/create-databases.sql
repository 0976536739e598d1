-- Run once by the postgres container on its first start: one database per stage.
CREATE DATABASE auth;
CREATE DATABASE shop;
CREATE DATABASE conduit;
CREATE DATABASE billing;
CREATE DATABASE catalog;
CREATE DATABASE orders;
CREATE DATABASE notifications;
CREATE DATABASE rides;
CREATE DATABASE ledger;
CREATE DATABASE payments;
CREATE DATABASE audit;
CREATE DATABASE social;
