-- One database per force node.
CREATE DATABASE mcx_wmp;
CREATE DATABASE mcx_gmp;
CREATE DATABASE mcx_mps;
