// Payment protocols: alipay (to be written).
