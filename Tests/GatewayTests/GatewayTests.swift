// The gateway's tests over real HTTP.
