// Payment protocols: wechat_pay (to be written).
